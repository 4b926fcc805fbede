// langpuppet_merge.h: the langpuppet frontend's one graph from an mcl graph and a puppet graph.
// Both sides' resources and edges are kept. The hand-over points are merged, by name: an mcl
// `noop "puppet_X"` and the puppet side's empty `class mgmt_X` (a noop "mgmt_X" after
// translation, catalog_translation.h) become one `noop "X"` that carries the edges of both, so
// that either side can run before or after the other. A hand-over point without its other half
// is kept as it is and named in `notes`. The same resource on both sides (kind and name) is an
// error naming both origins: two frontends managing one thing is never what was meant.
// Thread-safety: pure function.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <string>
#include <vector>

namespace mgmt::frontends::puppet {

[[nodiscard]] Result<GraphSpec> merge_langpuppet(const GraphSpec& lang, const GraphSpec& puppet,
                                                 std::vector<std::string>* notes);

}  // namespace mgmt::frontends::puppet
