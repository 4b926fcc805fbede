# compile_catalog.rb: compiles a Puppet manifest into a catalog with Debian's puppet, for mgmt's
# puppet frontend (frontends/puppet/catalog_compiler.h embeds this file and runs it with ruby).
#
#   ruby -e SCRIPT -- MANIFEST [--mgmt-modules DIR] [--config FILE] [puppet settings...]
#
# Prints one JSON object on stdout: {"catalog": <the catalog as puppet serialises it>,
# "runinterval": <seconds>, "basemodulepath": <the module path it used>}; a file's puppet:///modules/ source is rewritten to the module's
# file on this host. The node is this host, with its facts from facter, so $facts and
# hiera work as under `puppet apply`. Puppet's own notices and warnings go to stderr. On failure
# the last line on stderr starts "catalog error: " and says why, and the exit status is 1.
# Nothing is applied either way (compiling changes no state but puppet's own cache under its
# vardir).
require 'json'

# Puppet prints its notices on stdout; the catalog alone goes there.
$catalog_out = $stdout.dup
$stdout.reopen($stderr)

begin
  require 'puppet'
rescue LoadError => e
  warn "Error: the puppet library is not installed (#{e.message}); apt-get install puppet"
  exit 3
end

manifest = ARGV.shift
if manifest.nil? || !File.file?(manifest)
  warn "Error: no manifest file given (got #{manifest.inspect})"
  exit 2
end

# --mgmt-modules DIR: a deploy's own modules, searched before puppet's usual module path.
modules = nil
if (at = ARGV.index('--mgmt-modules'))
  modules = ARGV[at + 1]
  ARGV.slice!(at, 2)
end

begin
  Puppet.initialize_settings(ARGV)
  if modules
    Puppet[:basemodulepath] = "#{modules}:#{Puppet[:basemodulepath]}"
    # The environments were made from the settings as they were: make them again.
    Puppet.push_context(Puppet.base_context(Puppet.settings), 'mgmt: the deploy\'s modules')
  end
  Puppet[:color] = false
  Puppet::Util::Log.newdestination(:console)
  Puppet[:code] = File.read(manifest)
  Puppet[:manifest] = manifest  # named in error messages
  node_name = Puppet[:node_name_value]
  facts = Puppet::Node::Facts.indirection.find(node_name)
  node = Puppet::Node.new(node_name, facts: facts)  # $facts
  node.merge(facts.values) if facts                 # and the old top-scope fact variables
  Puppet::Resource::Catalog.indirection.terminus_class = :compiler
  catalog = Puppet::Resource::Catalog.indirection.find(node_name, use_node: node)
  raise Puppet::Error, 'the compiler returned no catalog' if catalog.nil?
  # As `puppet apply` would: every resource checked against its type (an unknown type, a value
  # its type refuses), without applying anything.
  catalog.to_ral
  # A file served from a module (source => 'puppet:///modules/NAME/PATH', as `puppet apply`
  # serves it) names the module's file on this host instead: mgmt copies local files.
  env = Puppet.lookup(:environments).get(catalog.environment)
  catalog.resources.each do |r|
    next unless r.type == 'File' && r[:source].is_a?(String)
    served = %r{\Apuppet:///modules/([^/]+)/(.+)\z}.match(r[:source]) or next
    mod = env && env.module(served[1])
    path = mod && mod.file(served[2])
    r[:source] = path if path
  end
  $catalog_out.write(JSON.generate('catalog' => catalog.to_data_hash,
                                   'runinterval' => Puppet[:runinterval].to_i,
                                   'basemodulepath' => Puppet[:basemodulepath]))
  $catalog_out.flush
rescue Exception => e # rubocop:disable Lint/RescueException: a one-line answer for anything
  raise if e.is_a?(SystemExit)
  warn "catalog error: #{e.message.lines.first.to_s.strip}"
  exit 1
end
