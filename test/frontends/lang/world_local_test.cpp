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

TEST_CASE("local: vardir makes a directory of the agent's state, pool numbers stay put",
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

namespace {

// A stand-in store whose keys carry create revisions (world.schedule and collect list them).
void list_over(LangRuntime& r, std::map<std::string, std::pair<std::string, int64_t>>& store) {
  r.list_prefix = [&store](const std::string& prefix)
      -> mgmt::Result<std::map<std::string, std::pair<std::string, int64_t>>> {
    std::map<std::string, std::pair<std::string, int64_t>> out;
    for (const auto& [k, v] : store) {
      if (k.rfind(prefix, 0) == 0) out[k] = v;
    }
    return out;
  };
}

}  // namespace

TEST_CASE("world.schedule: the hosts that asked first, as many as the first asked for",
          "[lang]") {
  mgmt::test::TempDir dir;
  std::map<std::string, std::string> plain;
  LangRuntime runtime = runtime_over(plain, dir.path());
  std::map<std::string, std::pair<std::string, int64_t>> store = {
      {"/_mgmt/schedule/web/h3", {"{\"strategy\":\"rr\",\"max\":2}", 7}},
      {"/_mgmt/schedule/web/h1", {"{\"strategy\":\"rr\",\"max\":2}", 9}},
      {"/_mgmt/schedule/web/h2", {"{\"strategy\":\"rr\",\"max\":3}", 12}},
      {"/_mgmt/schedule/db/h9", {"{\"strategy\":\"rr\",\"max\":1}", 1}}};
  list_over(runtime, store);
  StreamSources sources;
  auto graph = compile_source(
      "import \"world\"\nimport \"fmt\"\ntest [fmt.printf(\"%v\", world.schedule(\"web\"))] {}\n",
      "main.mcl", dir.path(), &sources, &runtime);
  REQUIRE(graph);
  // h3 asked first (revision 7), then h1; h3's max (2) rules; h2 waits its turn.
  CHECK(render_graph_output(graph) == "Vertex: test[[h3 h1]]\n");
  CHECK(sources.store_prefixes.count("/_mgmt/schedule/web/"));
  // Without an agent nobody is scheduled.
  auto dry = compile_source(
      "import \"world\"\nimport \"fmt\"\ntest [fmt.printf(\"%v\", world.schedule(\"web\"))] {}\n",
      "main.mcl", dir.path());
  REQUIRE(dry);
  CHECK(render_graph_output(dry) == "Vertex: test[[]]\n");
}

TEST_CASE("collect: exported resources for this host (or every host) are found and built, "
          "the collect body on top",
          "[lang]") {
  mgmt::test::TempDir dir;
  std::map<std::string, std::string> plain;
  LangRuntime runtime = runtime_over(plain, dir.path());
  std::map<std::string, std::pair<std::string, int64_t>> store = {
      {"/_mgmt/exported/h2/file//etc/motd",
       {R"({"params":{"content":"hi\n"},"to":["*"]})", 3}},
      {"/_mgmt/exported/h3/file//etc/motd",
       {R"({"params":{"content":"hi\n"},"to":["h1"]})", 4}},
      {"/_mgmt/exported/h3/file//etc/secret", {R"({"params":{"content":"x"},"to":["h4"]})", 5}},
      {"/_mgmt/exported/h3/print/p", {R"({"params":{"msg":"m"},"to":["h1"]})", 6}}};
  list_over(runtime, store);
  const std::string program =
      "import \"world/collect\"\nimport \"fmt\"\n"
      "test [fmt.printf(\"%v\", collect.res(\"file\"))] {}\n"
      "collect file \"/etc/motd\" {\n\tmode => \"0644\",\n}\n"
      "collect file \"/etc/secret\" {}\n"
      "collect print [struct{name => \"p\", host => \"h3\",}, struct{name => \"p\", host => "
      "\"h2\",},] {}\n";
  StreamSources sources;
  auto graph = compile_source(program, "main.mcl", dir.path(), &sources, &runtime);
  REQUIRE(graph);
  CHECK(render_graph_output(graph) ==
        "Vertex: file[/etc/motd]\nVertex: print[p]\n"
        "Vertex: test[[{/etc/motd h2} {/etc/motd h3}]]\n");
  for (const auto& r : graph->resources) {
    if (r.kind == "file") {
      CHECK(r.params == nlohmann::json{{"content", "hi\n"}, {"mode", "0644"}});
      CHECK_FALSE(r.meta.contains("export"));
    }
  }
  CHECK(sources.store_prefixes.count("/_mgmt/exported/"));
  // Two exports of one resource to the same host must agree.
  auto clash = compile_source(
      "test \"a\" {\n\tanotherstr => \"x\",\n\tMeta:export => [\"h1\"],\n}\n"
      "test \"a\" {\n\tanotherstr => \"y\",\n\tMeta:export => [\"h1\"],\n}\n",
      "main.mcl", dir.path());
  CHECK(render_graph_output(clash).rfind(
            "# err: errInterpret: test[a]: inequivalent duplicate export to h1: the anotherstr "
            "differs",
            0) == 0);
}
