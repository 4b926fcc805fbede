// graph_spec.h: the resource graph as a frontend describes it, before the engine builds live
// resources from it. Every frontend (empty, yaml, lang, puppet) produces GraphSpecs; the engine
// (agent/engine) turns one into a running graph, checking each resource's fields against the
// resource registry (agent/resources) and naming the field that is wrong.
// Invariants: (kind, name) is unique among resources; every edge names resources in the spec.
// Thread-safety: plain values.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mgmt::frontends {

struct ResourceSpec {
  std::string kind;  // e.g. "file", "print", "test"
  std::string name;  // unique within its kind
  // Field values by the resource's field names as the user wrote them (lang `content => ...`,
  // yaml `content: ...`): strings, integers, floats, bools, lists, maps and structs (objects).
  nlohmann::json params = nlohmann::json::object();
  // Metaparams (`Meta:` in lang, `meta:` in yaml): noop, retry, delay, poll, limit, burst, sema,
  // realize, reverse, autoedge, autogroup. Absent keys take the engine's defaults.
  nlohmann::json meta = nlohmann::json::object();
  // Where it came from, for error messages ("main.mcl @ 3:1", "graph.yaml line 7").
  std::string origin;

  bool operator==(const ResourceSpec&) const = default;
};

struct EdgeSpec {
  std::string from_kind;
  std::string from_name;
  std::string to_kind;
  std::string to_name;
  bool notify = false;  // a refresh flows along this edge
  // Send/recv: the sender's value `send` becomes the receiver's field `recv` (both or neither).
  std::string send;
  std::string recv;

  bool operator==(const EdgeSpec&) const = default;
};

struct GraphSpec {
  std::string name;  // the graph's name (yaml `graph:`), may be empty
  std::vector<ResourceSpec> resources;
  std::vector<EdgeSpec> edges;

  bool operator==(const GraphSpec&) const = default;
};

}  // namespace mgmt::frontends
