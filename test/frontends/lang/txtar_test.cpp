// txtar_test.cpp: our own mcl cases, in the reference's txtar shape: a `-- main.mcl --`
// section (and any other files it imports), then `-- OUTPUT --` with the exact graph, or
// `# err: errClass: ...` for code that must fail (compared up to the class and message start).
// Each file is one DYNAMIC_SECTION, so a failure names it.
#include "frontends/lang/lang_frontend.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {

std::map<std::string, std::string> read_txtar(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::map<std::string, std::string> sections;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("-- ", 0) == 0 && line.size() > 6 &&
        line.compare(line.size() - 3, 3, " --") == 0) {
      current = line.substr(3, line.size() - 6);
      sections[current];
      continue;
    }
    if (!current.empty()) sections[current] += line + "\n";
  }
  return sections;
}

}  // namespace

TEST_CASE("lang: every txtar case gives its expected graph or error", "[lang][golden]") {
  namespace fs = std::filesystem;
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(MGMT_LANG_TESTDATA)) {
    if (entry.path().extension() == ".txtar") cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 10);
  for (const auto& path : cases) {
    DYNAMIC_SECTION(path.filename().string()) {
      auto sections = read_txtar(path);
      REQUIRE(sections.count("main.mcl"));
      REQUIRE(sections.count("OUTPUT"));
      fs::path dir = fs::temp_directory_path() / ("mgmt-lang-" + path.stem().string());
      fs::create_directories(dir);
      for (const auto& [name, text] : sections) {
        if (name == "OUTPUT") continue;
        fs::create_directories((dir / name).parent_path());  // modules: "tools/main.mcl"
        std::ofstream(dir / name) << text;
      }
      std::string got = mgmt::frontends::lang::render_graph_output(
          mgmt::frontends::lang::compile_graph(dir.string()));
      fs::remove_all(dir);
      const std::string& want = sections["OUTPUT"];
      if (want.rfind("# err: ", 0) == 0) {
        // The class and the start of the message must match; positions may follow.
        std::string expected_start = want.substr(0, want.find('\n'));
        CHECK(got.rfind(expected_start, 0) == 0);
        CHECK(got.find("main.mcl @ ") != std::string::npos);
      } else {
        CHECK(got == want);
      }
    }
  }
}
