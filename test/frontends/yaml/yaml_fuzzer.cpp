// yaml_fuzzer.cpp: a libFuzzer target for the yaml frontend: any input parses to a graph or
// fails with one line; never a crash, a hang or a sanitizer report. Built with
// -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "frontends/yaml/yaml_graph.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result = mgmt::frontends::yaml::parse_graph(text, "fuzz.yaml");
  if (!result && result.error().message().find('\n') != std::string::npos) std::abort();
  return 0;
}
