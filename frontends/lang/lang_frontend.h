// lang_frontend.h: the lang frontend's entry points: compile mcl code (a .mcl file, or a
// directory holding main.mcl) into a GraphSpec, and render a result the way `mgmt graph lang`
// prints it (and the reference's interpreter tests compare it):
//   Vertex: kind[name]                                   one per resource, sorted
//   Edge: k1[n1] -> k2[n2] # k1[n1] -> k2[n2]            one per edge, sorted
//   # err: <class>: <message>                            on failure
// A program is evaluated once per call; what it read that can change (its streams: files read
// with os.readfile, the clock) is returned in `sources`, for the agent to run it again on a
// change (agent/run/lang_stream.h).
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"
#include "frontends/lang/interpret.h"

#include <string>

namespace mgmt::frontends::lang {

[[nodiscard]] Result<GraphSpec> compile_graph(const std::string& path,
                                              StreamSources* sources = nullptr,
                                              const LangRuntime* runtime = nullptr);
// `dir`: where imported files are found.
[[nodiscard]] Result<GraphSpec> compile_source(const std::string& source,
                                               const std::string& file,
                                               const std::string& dir = "",
                                               StreamSources* sources = nullptr,
                                               const LangRuntime* runtime = nullptr);
std::string render_graph_output(const Result<GraphSpec>& result);

}  // namespace mgmt::frontends::lang
