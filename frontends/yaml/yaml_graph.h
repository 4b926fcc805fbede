// yaml_graph.h: the yaml frontend: the reference's YAML graph format turned into a GraphSpec.
//
//   graph: mygraph
//   resources:
//     file:                      # grouped by kind
//     - name: file1
//       path: /tmp/f1
//       content: "hello\n"
//       meta: {retry: 3}         # metaparameters (optional)
//   edges:
//   - name: e1
//     from: {kind: file, name: file1}
//     to: {kind: print, name: p1}
//     notify: true               # optional
//
// Field values are read as the registry's field type says (a YAML `3` is an int for an int
// field and the string "3" for a str field); a wrong value, an unknown field or kind, or broken
// YAML is one error line naming the file and the line. An empty document is an empty graph.
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <string>

namespace mgmt::frontends::yaml {

// `source` names the file in error messages.
[[nodiscard]] Result<GraphSpec> parse_graph(const std::string& text, const std::string& source);
[[nodiscard]] Result<GraphSpec> load_graph_file(const std::string& path);

}  // namespace mgmt::frontends::yaml
