// lang_fuzzer.cpp: a libFuzzer target for the mcl frontend (lexer, parser, init checks,
// interpreter): any input either compiles or fails with one line naming its error class; it
// never crashes, hangs or trips a sanitizer. Built with -DMGMT_BUILD_FUZZERS=ON (clang);
// run by tools/fuzz.sh.
#include "frontends/lang/lang_frontend.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  auto result = mgmt::frontends::lang::compile_source(source, "fuzz.mcl", "/nonexistent");
  if (!result) {
    const std::string& m = result.error().message();
    if (m.rfind("err", 0) != 0 || m.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
