// world_local_test.cpp: the world and local modules against a stand-in agent (an in-memory
// store and a temporary state directory): world.getval and world.kvlookup read the store and
// say which keys the program depends on; local.vardir makes a directory of the agent's state;
// local.pool gives each uid a stable small number. Without an agent they see a fresh one.
#include "frontends/lang/lang_frontend.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

using mgmt::frontends::lang::compile_source;
using mgmt::frontends::lang::LangRuntime;
using mgmt::frontends::lang::render_graph_output;
using mgmt::frontends::lang::StreamSources;

namespace {

LangRuntime runtime_over(std::map<std::string, std::string>& store, const std::string& dir) {
  LangRuntime r;
  r.hostname = "h1";
  r.var_dir = dir;
  r.get = [&store](const std::string& key) -> mgmt::Result<std::optional<std::string>> {
    auto it = store.find(key);
    return it == store.end() ? std::optional<std::string>() : it->second;
  };
  r.get_prefix =
      [&store](const std::string& prefix) -> mgmt::Result<std::map<std::string, std::string>> {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : store) {
      if (k.rfind(prefix, 0) == 0) out[k] = v;
    }
    return out;
  };
  return r;
}

}  // namespace

TEST_CASE("world: getval and kvlookup read the store and name what the program depends on",
          "[lang]") {
  mgmt::test::TempDir dir;
  std::map<std::string, std::string> store = {{"/_mgmt/strings/colour", "blue"},
                                              {"/_mgmt/strmap/addr/h1", "10.0.0.1"},
                                              {"/_mgmt/strmap/addr/h2", "10.0.0.2"}};
  const LangRuntime runtime = runtime_over(store, dir.path());
  const std::string program =
      "import \"world\"\nimport \"fmt\"\n$c = world.getval(\"colour\")\n"
      "$m = world.getval(\"missing\")\n$hosts = world.kvlookup(\"addr\")\n"
      "test [fmt.printf(\"%s %t %t %s %d\", $c->value, $c->exists, $m->exists, "
      "$hosts[\"h2\"], len($hosts))] {}\n";
  StreamSources sources;
  auto graph = compile_source(program, "main.mcl", dir.path(), &sources, &runtime);
  REQUIRE(graph);
  CHECK(render_graph_output(graph) == "Vertex: test[blue true false 10.0.0.2 2]\n");
  CHECK(sources.store_keys ==
        std::set<std::string>{"/_mgmt/strings/colour", "/_mgmt/strings/missing"});
  CHECK(sources.store_prefixes == std::set<std::string>{"/_mgmt/strmap/addr/"});
  // Without an agent (mgmt graph), the program sees an empty cluster.
  auto dry = compile_source(
      "import \"world\"\nimport \"fmt\"\n$c = world.getval(\"colour\")\n"
      "test [fmt.printf(\"%t %d\", $c->exists, len(world.kvlookup(\"addr\")))] {}\n",
      "main.mcl", dir.path());
  REQUIRE(dry);
  CHECK(render_graph_output(dry) == "Vertex: test[false 0]\n");
}

TEST_CASE("local: vardir makes a directory of the agent's state; pool numbers stay put",
          "[lang]") {
  mgmt::test::TempDir dir;
  std::map<std::string, std::string> store;
  const LangRuntime runtime = runtime_over(store, dir.path());
  auto run = [&](const std::string& body) {
    return render_graph_output(compile_source("import \"local\"\nimport \"fmt\"\n" + body,
                                              "main.mcl", dir.path(), nullptr, &runtime));
  };
  CHECK(run("test [local.vardir(\"cache/app\")] {}\n") ==
        "Vertex: test[" + dir.path() + "/local/cache/app/]\n");
  CHECK(std::filesystem::is_directory(dir.path() + "/local/cache/app"));
  CHECK(run("test [local.vardir(\"../escape\")] {}\n").rfind("# err: errStream:", 0) == 0);
  CHECK(run("test [fmt.printf(\"%d\", local.pool(\"ports\", \"web\"))] {}\n") ==
        "Vertex: test[1]\n");
  CHECK(run("test [fmt.printf(\"%d\", local.pool(\"ports\", \"db\"))] {}\n") ==
        "Vertex: test[2]\n");
  CHECK(run("test [fmt.printf(\"%d\", local.pool(\"ports\", \"web\"))] {}\n") ==
        "Vertex: test[1]\n");  // the same uid keeps its number, also in a later run
}
