# hello.pp: a first manifest for the puppet frontend (docs/puppet.md):
# `bash tools/run.sh puppet docs/examples/hello.pp` (it installs Debian's puppet if missing), or
# `mgmt deploy puppet docs/examples/hello.pp` to running agents (they need puppet installed).
# The file is a native mgmt file, repaired the moment it changes; tidy has no native form, so
# puppet applies it itself.
class greeting($who = $facts['networking']['hostname']) {
  file { '/tmp/mgmt-hello-puppet':
    ensure => directory,
  }
  file { '/tmp/mgmt-hello-puppet/greeting':
    ensure  => file,
    content => "hello ${who}\n",
    mode    => '0644',
  }
}

include greeting

tidy { '/tmp/mgmt-hello-puppet/old':
  age     => '1w',
  recurse => true,
}

notify { 'greeted':
  message => 'the greeting is in place',
}

Class['greeting'] -> Notify['greeted']
