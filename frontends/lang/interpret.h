// interpret.h: runs a parsed mcl program and collects its resources and edges into a
// GraphSpec. Binds are declarative (order does not matter) and evaluated on first use; a bind
// that needs itself is an error. Errors name their class first, as the reference's do:
// errSetScope (unknown or duplicate names, missing imports), errUnify (a value of the wrong
// type), errStream (a function failed while running), errInterpret (resources and edges that
// cannot be built, e.g. a duplicate resource).
// Thread-safety: one interpretation per call; nothing is shared.
#pragma once

#include "frontends/graph_spec.h"
#include "frontends/lang/ast.h"
#include "frontends/lang/command_lines.h"
#include "frontends/lang/history_book.h"

#include <chrono>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace mgmt::frontends::lang {

// What a program's values came from that can change while it runs (its streams): files read
// with os.readfile, and the clock (datetime.now). Whoever runs the program watches these and
// runs it again when one changes (agent/run/lang_stream.h).
struct StreamSources {
  std::set<std::string> files;
  bool clock = false;
  std::set<std::string> store_keys;      // world.getval
  std::set<std::string> store_prefixes;  // world.kvlookup
  std::set<std::string> command_sites;   // os.system calls running (see CommandLines)
  // When a past value asked for with history() becomes due: run again then.
  std::optional<std::chrono::steady_clock::time_point> wake_at;

  bool empty() const {
    return files.empty() && !clock && store_keys.empty() && store_prefixes.empty() &&
           command_sites.empty() && !wake_at;
  }
};

// What a running agent lends a program, for the `world` and `local` modules: the cluster store
// (a key, or every key under a prefix), this host's name, and a directory of its own state.
// Without it (`mgmt graph`), those functions say they need a running agent.
struct LangRuntime {
  std::string hostname;
  std::string var_dir;
  std::string value_dir;  // where value resources keep their values (value.get_*)
  std::function<Result<std::optional<std::string>>(const std::string& key)> get;
  std::function<Result<std::map<std::string, std::string>>(const std::string& prefix)>
      get_prefix;
  // Every key under a prefix with its create revision (world.schedule orders by it).
  std::function<Result<std::map<std::string, std::pair<std::string, int64_t>>>(
      const std::string& prefix)>
      list_prefix;
  // State one program keeps across its runs (history's values, os.system's processes); one
  // per deploy. Without them history gives the value now and os.system its first line.
  std::shared_ptr<HistoryBook> history;
  std::shared_ptr<CommandLines> commands;
  // The check before a deploy: os.system runs nothing on the deployer's machine (it gives "").
  bool check_only = false;
};

// `dir` is where `import "x.mcl"` looks for files (the main file's directory). `sources`, when
// given, receives what the program read that may change.
[[nodiscard]] Result<GraphSpec> interpret(const std::vector<StmtPtr>& program,
                                          const std::string& file, const std::string& dir = "",
                                          StreamSources* sources = nullptr,
                                          const LangRuntime* runtime = nullptr);

}  // namespace mgmt::frontends::lang
