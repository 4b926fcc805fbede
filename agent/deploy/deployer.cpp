// deployer.cpp: see deployer.h.
#include "agent/deploy/deployer.h"

#include "agent/deploy/git_chain.h"
#include "common/utf8.h"
#include "frontends/lang/lang_frontend.h"
#include "frontends/puppet/catalog_compiler.h"
#include "frontends/yaml/yaml_graph.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <unistd.h>

namespace mgmt::agent::deploy {
namespace {

namespace fs = std::filesystem;

// What one transaction may carry: etcd's request limit, less room for the keys.
constexpr std::size_t kMaxCodeBytes = 1400 * 1024;

struct CodeFiles {
  std::string entry;
  std::string puppet_entry;  // puppet, langpuppet
  std::string puppet_conf;   // puppet, langpuppet: the shipped puppet.conf, or empty
  std::vector<std::pair<std::string, std::string>> files;  // relative path, content
  std::size_t total = 0;
};

// Where a deploy keeps the --puppet-conf it ships (outside the code's own names).
const std::string kShippedPuppetConf = ".mgmt/puppet.conf";

Result<std::string> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Code::not_found, "cannot read " + path.string() + "; check the path");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<void> add_text(CodeFiles& code, const std::string& relative, std::string content) {
  // The payload names each file in JSON text, which holds UTF-8 only.
  if (!is_utf8(relative)) {
    return fail(Code::invalid_argument,
                "the file name \"" + escape_bytes(relative) + "\" is not UTF-8 text, and a "
                "deploy names its files in JSON; rename it (convmv -f latin1 -t utf8 converts "
                "old names) or move it out of the code's directory");
  }
  code.total += content.size();
  if (code.total > kMaxCodeBytes) {
    return fail(Code::resource_exhausted,
                "the code is too large to deploy (over " + std::to_string(kMaxCodeBytes) +
                    " bytes; the store takes 1.5 MiB per request); keep large files out of "
                    "the code's directory");
  }
  code.files.emplace_back(relative, std::move(content));
  return ok();
}

Result<void> add_file(CodeFiles& code, const fs::path& file, const std::string& relative) {
  auto content = read_all(file);
  if (!content) return fail(content.error());
  return add_text(code, relative, std::move(*content));
}

// Every regular file under `dir` (not .git), named `prefix` + its path relative to dir.
Result<void> add_tree(CodeFiles& code, const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    auto a = add_file(code, it->path(), prefix + fs::relative(it->path(), dir).string());
    if (!a) return fail(a.error());
  }
  return ok();
}

}  // namespace

bool is_inline_puppet(const std::string& code) {
  std::error_code ec;
  const bool named_pp = code.size() >= 3 && code.compare(code.size() - 3, 3, ".pp") == 0;
  return !named_pp && !fs::exists(code, ec) &&
         code.find_first_of("{}()$=\n\t ") != std::string::npos;
}

namespace {

// One frontend's code under `prefix`; returns its entry (relative, with the prefix).
Result<std::string> add_code(CodeFiles& code, const std::string& frontend,
                             const std::string& given, const std::string& prefix) {
  std::error_code ec;
  if (frontend == "puppet" && is_inline_puppet(given)) {
    if (auto a = add_text(code, prefix + "main.pp", given); !a) return fail(a.error());
    return prefix + "main.pp";
  }
  fs::path path(given);
  if (!fs::exists(path, ec)) {
    if (frontend == "puppet" && given == "agent") {
      return fail(Code::unimplemented,
                  "puppet's agent mode (a catalog from a puppet server) is not supported; give "
                  "a manifest: a .pp file, a directory holding site.pp, or inline code");
    }
    return fail(Code::not_found, "cannot read " + given + ": no such file or directory; "
                                 "check the path");
  }
  if (!fs::is_directory(path, ec)) {
    const std::string entry = prefix + path.filename().string();
    if (auto a = add_file(code, path, entry); !a) return fail(a.error());
    return entry;
  }
  if (frontend == "yaml") {
    return fail(Code::invalid_argument,
                given + " is a directory; the yaml frontend takes one YAML file");
  }
  const std::string entry = frontend == "puppet" ? "site.pp" : "main.mcl";
  if (!fs::exists(path / entry, ec)) {
    return fail(Code::not_found,
                given + " has no " + entry + "; give the " +
                    (frontend == "puppet" ? ".pp file itself or a directory that holds site.pp"
                                          : ".mcl file itself or a directory that holds "
                                            "main.mcl"));
  }
  if (auto a = add_tree(code, path, prefix); !a) return fail(a.error());
  return prefix + entry;
}

Result<CodeFiles> collect(const DeployRequest& r) {
  CodeFiles code;
  if (r.frontend == "empty") return code;
  if (r.frontend == "langpuppet") {
    auto lang = add_code(code, "lang", r.code, "lang/");
    if (!lang) return fail(lang.error());
    auto manifest = add_code(code, "puppet", r.puppet_code, "puppet/");
    if (!manifest) return fail(manifest.error());
    code.entry = *lang;
    code.puppet_entry = *manifest;
  } else {
    auto entry = add_code(code, r.frontend, r.code, "");
    if (!entry) return fail(entry.error());
    code.entry = *entry;
    if (r.frontend == "puppet") code.puppet_entry = *entry;
  }
  if (!r.puppet_conf.empty()) {
    if (auto a = add_file(code, r.puppet_conf, kShippedPuppetConf); !a) return fail(a.error());
    code.puppet_conf = kShippedPuppetConf;
  }
  return code;
}

// Checks the puppet side's syntax here, if puppet is installed here (agents compile it
// anyway, with their own facts).
Result<void> check_puppet(const DeployRequest& r,
                          const std::function<void(const std::string&)>& note) {
  const std::string& given = r.frontend == "langpuppet" ? r.puppet_code : r.code;
  std::string manifest = given;
  std::optional<fs::path> scratch;
  std::error_code ec;
  if (fs::is_directory(given, ec)) manifest = (fs::path(given) / "site.pp").string();
  if (r.frontend != "langpuppet" && is_inline_puppet(given)) {
    // `puppet parser validate` reads a file: the inline code goes in a scratch one.
    scratch = fs::temp_directory_path(ec) /
              ("mgmt-deploy-" + std::to_string(::getpid()) + "-main.pp");
    std::ofstream(*scratch, std::ios::binary) << given;
    manifest = scratch->string();
  }
  const std::string name = scratch ? "the inline code" : manifest;
  auto checked = frontends::puppet::validate_syntax(manifest, name);
  if (scratch) fs::remove(*scratch, ec);
  if (!checked) return fail(checked.error());
  if (!*checked) {
    note("puppet is not installed here, so " + name + " was not checked before shipping; each "
         "agent compiles it (apt-get install puppet to check here too)");
  }
  return ok();
}

std::string utc_now() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string short_commit(const std::string& commit) { return commit.substr(0, 7); }

}  // namespace

Result<int64_t> latest_deploy(store::client::EtcdClient& client) {
  auto got = client.get(kLatestKey);
  if (!got) return fail(got.error());
  if (got->kvs.empty()) return int64_t{0};
  try {
    return static_cast<int64_t>(std::stoll(got->kvs.front().value));
  } catch (const std::exception&) {
    return fail(Code::data_loss, kLatestKey + " holds \"" + got->kvs.front().value +
                                     "\", not a deploy id; fix it with `etcdctl put " +
                                     kLatestKey + " N`");
  }
}

Result<Payload> deploy(store::client::EtcdClient& client, const DeployRequest& request,
                       const std::function<void(const std::string&)>& note) {
  auto code = collect(request);
  if (!code) return fail(code.error());
  // Refuse code the frontend cannot read before shipping it.
  if (request.frontend == "yaml") {
    auto graph = frontends::yaml::parse_graph(code->files.front().second, request.code);
    if (!graph) return fail(graph.error());
  } else if (request.frontend == "lang") {
    if (!request.skip_unify) {
      frontends::lang::LangRuntime check;  // runs no os.system command here
      check.check_only = true;
      auto graph = frontends::lang::compile_graph(request.code, nullptr, &check);
      if (!graph) return fail(graph.error());
    }
  }
  if (request.frontend == "langpuppet" && !request.skip_unify) {
    frontends::lang::LangRuntime check;
    check.check_only = true;
    auto graph = frontends::lang::compile_graph(request.code, nullptr, &check);
    if (!graph) return fail(graph.error());
  }
  if (request.frontend == "puppet" || request.frontend == "langpuppet") {
    if (auto checked = check_puppet(request, note); !checked) return fail(checked.error());
  }
  std::optional<GitState> git;
  if (request.no_git) {
    note("--no-git: the commit chain is not checked");
  } else if (request.frontend == "puppet" && is_inline_puppet(request.code)) {
    note("inline puppet code: no commit chain is checked");
  } else if (request.frontend != "empty") {
    auto state = git_state(request.code);
    if (!state) return fail(state.error());
    git = *state;
    if (!git) note(request.code + " is not in a git repository: no commit chain is checked");
  }
  for (int attempt = 0;; ++attempt) {
    auto previous = latest_deploy(client);
    if (!previous) return fail(previous.error());
    if (git && !git->commit.empty() && *previous > 0 && !request.force) {
      auto old = client.get(hash_key(*previous));
      if (!old) return fail(old.error());
      std::string old_commit = old->kvs.empty() ? "" : old->kvs.front().value;
      if (!old_commit.empty()) {
        auto ok_chain = is_ancestor_or_same(git->repository, old_commit, git->commit);
        if (!ok_chain) return fail(ok_chain.error());
        if (!*ok_chain) {
          return fail(Code::failed_precondition,
                      "deploy refused: the running deploy " + std::to_string(*previous) +
                          " has commit " + short_commit(old_commit) +
                          ", which is not an ancestor of this code's commit " +
                          short_commit(git->commit) +
                          " (not a fast-forward); deploy a commit that contains it, or pass "
                          "--force to replace it anyway, or --no-git to skip the check");
        }
      }
    }
    Payload payload;
    payload.id = *previous + 1;
    payload.frontend = request.frontend;
    payload.entry = code->entry;
    payload.puppet_entry = code->puppet_entry;
    payload.puppet_conf = code->puppet_conf;
    if (git) {
      payload.commit = git->commit;
      payload.dirty = git->dirty;
    }
    payload.time = utc_now();
    payload.deployer = request.deployer;
    payload.noop = request.noop;
    for (const auto& [path, content] : code->files) payload.files.push_back(path);

    std::vector<store::client::Compare> compares;
    if (*previous == 0) {
      compares.push_back({kLatestKey, store::client::Compare::Target::version, 0, ""});
    } else {
      compares.push_back(
          {kLatestKey, store::client::Compare::Target::value, 0, std::to_string(*previous)});
    }
    std::vector<store::client::Put> puts = {
        {kLatestKey, std::to_string(payload.id), 0},
        {payload_key(payload.id), encode_payload(payload), 0},
        {hash_key(payload.id), payload.commit, 0}};
    for (const auto& [path, content] : code->files) {
      puts.push_back({fs_prefix(payload.id) + path, content, 0});
    }
    auto landed = client.txn(compares, puts);
    if (!landed) return fail(landed.error());
    if (*landed) return payload;
    auto winner = latest_deploy(client);
    std::string who = winner ? std::to_string(*winner) : "another";
    if (attempt >= request.retries) {
      return fail(Code::aborted, "this deploy lost a race: deploy " + who +
                                     " landed first from another deployer; run again to deploy "
                                     "on top of it, or pass --retries N");
    }
    note("deploy " + who + " landed first from another deployer; retrying on top of it");
  }
}

}  // namespace mgmt::agent::deploy
