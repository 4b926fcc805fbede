// yaml_graph_test.cpp: the reference's YAML graphs load; mistakes name the line; no input,
// however broken, crashes the parser.
#include "frontends/yaml/yaml_graph.h"

#include <catch2/catch.hpp>

#include "test/support/fuzz/mutator.h"

#include <cstdint>

using mgmt::frontends::yaml::parse_graph;

TEST_CASE("yaml: a graph with resources of several kinds and a notify edge", "[yaml]") {
  auto g = parse_graph(R"(
graph: mygraph
resources:
  noop:
  - name: noop1
  file:
  - name: file1
    path: "/tmp/mgmt/f1"
    content: |
      i am f1
    state: exists
  exec:
  - name: e1
    cmd: echo hi
    timeout: 10
    meta:
      retry: 3
edges:
- name: e1
  from:
    kind: file
    name: file1
  to:
    kind: exec
    name: e1
  notify: true
)",
                       "g.yaml");
  REQUIRE(g);
  CHECK(g->name == "mygraph");
  REQUIRE(g->resources.size() == 3);
  CHECK(g->resources[1].kind == "file");
  CHECK(g->resources[1].params["content"] == "i am f1\n");
  CHECK(g->resources[2].params["timeout"] == 10);  // an int because the field is an int
  CHECK(g->resources[2].meta["retry"] == 3);
  REQUIRE(g->edges.size() == 1);
  CHECK(g->edges[0].notify);
}

TEST_CASE("yaml: mistakes name the file, the line and the field", "[yaml]") {
  CHECK(parse_graph("resources:\n  file:\n  - name: f\n    mdoe: '0644'\n", "g.yaml")
            .error()
            .message() == "file[f]: field \"mdoe\" does not exist; did you mean \"mode\"? "
                          "(g.yaml line 3)");
  CHECK(parse_graph("resources:\n  exec:\n  - name: e\n    timeout: soon\n", "g.yaml")
            .error()
            .message() == "g.yaml line 4: exec[e]: field \"timeout\" must be int");
  CHECK(parse_graph("resources:\n  flie:\n  - name: f\n", "g.yaml").error().message() ==
        "flie[f]: unknown resource kind \"flie\"; did you mean \"file\"? (g.yaml line 3)");
  CHECK(parse_graph("resources: [\n", "g.yaml").error().message().rfind(
            "g.yaml line 2: not valid YAML", 0) == 0);
  CHECK(parse_graph("graphs: x\n", "g.yaml").error().message() ==
        "g.yaml line 1: unknown top-level key \"graphs\"; use graph, resources, edges or "
        "comment");
  CHECK(parse_graph("edges:\n- from: {kind: file}\n", "g.yaml").error().message() ==
        "g.yaml line 2: an edge needs from and to, each with kind and name");
}

TEST_CASE("yaml: an empty document is an empty graph", "[yaml]") {
  auto g = parse_graph("", "empty.yaml");
  REQUIRE(g);
  CHECK(g->resources.empty());
}

TEST_CASE("yaml: random and mutated input never crashes the parser", "[yaml][fuzz]") {
  const std::string seed_text =
      "graph: g\nresources:\n  file:\n  - name: f\n    content: x\nedges:\n- from: {kind: "
      "file, name: f}\n  to: {kind: file, name: f}\n";
  mgmt::test::Mutator mutator(0x9e3779b97f4a7c15ULL);
  const std::string alphabet = "ab:-[]{}\n '\"|>&*!%@`#,?0123456789";
  for (int i = 0; i < 3000; ++i) {
    std::string text = mutator.mutate(seed_text, alphabet, 8);
    auto result = parse_graph(text, "fuzz.yaml");  // must return, with a graph or an error
    if (!result) CHECK(result.error().message().find('\n') == std::string::npos);
  }
}
