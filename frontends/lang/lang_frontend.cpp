// lang_frontend.cpp: see lang_frontend.h.
#include "frontends/lang/lang_frontend.h"

#include "frontends/lang/init_check.h"
#include "frontends/lang/interpret.h"
#include "frontends/lang/parser.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace mgmt::frontends::lang {

Result<GraphSpec> compile_source(const std::string& source, const std::string& file,
                                 const std::string& dir, StreamSources* sources,
                                 const LangRuntime* runtime) {
  auto program = parse(source, file);
  if (!program) return fail(program.error());
  if (auto checked = init_check(*program, file); !checked) return fail(checked.error());
  return interpret(*program, file, dir, sources, runtime);
}

Result<GraphSpec> compile_graph(const std::string& path, StreamSources* sources,
                                const LangRuntime* runtime) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path file = fs::is_directory(path, ec) ? fs::path(path) / "main.mcl" : fs::path(path);
  std::ifstream in(file);
  if (!in) {
    return fail(Code::not_found, "cannot read " + file.string() +
                                     "; give a .mcl file or a directory holding main.mcl");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return compile_source(text.str(), file.filename().string(), file.parent_path().string(),
                        sources, runtime);
}

std::string render_graph_output(const Result<GraphSpec>& result) {
  if (!result) return "# err: " + result.error().message() + "\n";
  std::vector<std::string> lines;
  for (const auto& r : result->resources) lines.push_back("Vertex: " + r.kind + "[" + r.name + "]");
  for (const auto& e : result->edges) {
    std::string edge = e.from_kind + "[" + e.from_name + "] -> " + e.to_kind + "[" + e.to_name + "]";
    lines.push_back("Edge: " + edge + " # " + edge);
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace mgmt::frontends::lang
