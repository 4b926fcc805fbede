// yaml_graph.cpp: YAML to GraphSpec; see yaml_graph.h. yaml-cpp throws; every call into it is
// inside one try block here, so nothing escapes.
#include "frontends/yaml/yaml_graph.h"

#include "agent/resources/registry.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace mgmt::frontends::yaml {
namespace {

struct YamlError {
  std::string message;
  YAML::Mark mark;
};

std::string where(const std::string& source, const YAML::Mark& mark) {
  if (mark.line < 0) return source;
  return source + " line " + std::to_string(mark.line + 1);
}

// A YAML node as JSON of the given mcl type ("" when unknown: scalars stay strings).
nlohmann::json convert(const YAML::Node& node, const std::string& type, const std::string& what) {
  auto mismatch = [&]() {
    return YamlError{what + " must be " + (type.empty() ? "a value" : type), node.Mark()};
  };
  if (type.rfind("[]", 0) == 0) {
    if (!node.IsSequence()) throw mismatch();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : node) list.push_back(convert(item, type.substr(2), what));
    return list;
  }
  if (type.rfind("map{", 0) == 0 || type.rfind("struct{", 0) == 0) {
    if (!node.IsMap()) throw mismatch();
    nlohmann::json object = nlohmann::json::object();
    for (const auto& item : node) {
      object[item.first.as<std::string>()] = convert(item.second, "", what);
    }
    return object;
  }
  if (node.IsSequence()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : node) list.push_back(convert(item, "", what));
    return list;
  }
  if (node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& item : node) {
      object[item.first.as<std::string>()] = convert(item.second, "", what);
    }
    return object;
  }
  if (!node.IsScalar()) throw mismatch();
  std::string text = node.Scalar();
  if (type == "int") {
    try {
      std::size_t used = 0;
      long long v = std::stoll(text, &used, 0);
      if (used != text.size()) throw mismatch();
      return v;
    } catch (const std::logic_error&) {
      throw mismatch();
    }
  }
  if (type == "float") {
    try {
      std::size_t used = 0;
      double v = std::stod(text, &used);
      if (used != text.size()) throw mismatch();
      return v;
    } catch (const std::logic_error&) {
      throw mismatch();
    }
  }
  if (type == "bool") {
    if (text == "true" || text == "True" || text == "yes") return true;
    if (text == "false" || text == "False" || text == "no") return false;
    throw mismatch();
  }
  if (type.empty()) {
    if (text == "true") return true;
    if (text == "false") return false;
    try {
      std::size_t used = 0;
      long long v = std::stoll(text, &used, 10);
      if (used == text.size()) return v;
    } catch (const std::logic_error&) {
    }
  }
  return text;
}

GraphSpec parse(const YAML::Node& root, const std::string& source) {
  GraphSpec graph;
  if (!root || root.IsNull()) return graph;
  if (!root.IsMap()) throw YamlError{"the document must be a map with graph, resources, edges",
                                     root.Mark()};
  for (const auto& top : root) {
    std::string key = top.first.as<std::string>();
    if (key != "graph" && key != "resources" && key != "edges" && key != "comment" &&
        key != "collect") {
      throw YamlError{"unknown top-level key \"" + key +
                          "\"; use graph, resources, edges or comment",
                      top.first.Mark()};
    }
  }
  if (root["graph"]) graph.name = root["graph"].as<std::string>();
  if (const auto& resources = root["resources"]) {
    if (!resources.IsMap()) {
      throw YamlError{"resources must be a map from kind to a list of resources",
                      resources.Mark()};
    }
    for (const auto& group : resources) {
      std::string kind = group.first.as<std::string>();
      const auto* info = agent::resources::find_kind(kind);
      if (group.second.IsNull()) continue;
      if (!group.second.IsSequence()) {
        throw YamlError{"resources of kind " + kind + " must be a list", group.second.Mark()};
      }
      for (const auto& item : group.second) {
        if (!item.IsMap() || !item["name"]) {
          throw YamlError{"each " + kind + " resource needs a name", item.Mark()};
        }
        ResourceSpec r;
        r.kind = kind;
        r.name = item["name"].as<std::string>();
        r.origin = where(source, item.Mark());
        for (const auto& field : item) {
          std::string name = field.first.as<std::string>();
          if (name == "name") continue;
          std::string id = kind + "[" + r.name + "]";
          if (name == "meta") {
            r.meta = convert(field.second, "map{str: str}", id + ": meta");
            continue;
          }
          const auto* f = info ? info->field(name) : nullptr;
          r.params[name] = convert(field.second, f ? f->type : "",
                                   id + ": field \"" + name + "\"");
        }
        if (auto checked = agent::resources::check_spec(r); !checked) {
          throw YamlError{checked.error().message(), YAML::Mark::null_mark()};
        }
        graph.resources.push_back(std::move(r));
      }
    }
  }
  if (const auto& edges = root["edges"]) {
    if (!edges.IsSequence()) throw YamlError{"edges must be a list", edges.Mark()};
    for (const auto& e : edges) {
      if (!e["from"] || !e["to"] || !e["from"]["kind"] || !e["from"]["name"] ||
          !e["to"]["kind"] || !e["to"]["name"]) {
        throw YamlError{"an edge needs from and to, each with kind and name", e.Mark()};
      }
      EdgeSpec edge;
      edge.from_kind = e["from"]["kind"].as<std::string>();
      edge.from_name = e["from"]["name"].as<std::string>();
      edge.to_kind = e["to"]["kind"].as<std::string>();
      edge.to_name = e["to"]["name"].as<std::string>();
      edge.notify = e["notify"] && e["notify"].as<bool>();
      graph.edges.push_back(std::move(edge));
    }
  }
  return graph;
}

}  // namespace

Result<GraphSpec> parse_graph(const std::string& text, const std::string& source) {
  try {
    return parse(YAML::Load(text), source);
  } catch (const YamlError& e) {
    std::string at = e.mark.line >= 0 ? where(source, e.mark) + ": " : "";
    return fail(Code::invalid_argument, at + e.message);
  } catch (const YAML::Exception& e) {
    return fail(Code::invalid_argument,
                where(source, e.mark) + ": not valid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return fail(Code::invalid_argument, source + ": " + e.what());
  }
}

Result<GraphSpec> load_graph_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(Code::not_found, "cannot read " + path + "; check the path and permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_graph(text.str(), path);
}

}  // namespace mgmt::frontends::yaml
