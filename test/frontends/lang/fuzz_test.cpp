// fuzz_test.cpp: mutated and random programs never crash or hang the lexer, parser or
// interpreter; every failure is one line with its error class.
#include "frontends/lang/lang_frontend.h"

#include <catch2/catch.hpp>

#include <cstdint>

TEST_CASE("lang: mutated programs never crash the frontend", "[lang][fuzz]") {
  const std::string seed =
      "import \"fmt\"\n$x = [\"a\", \"b\",]\nfunc f($y) {\n\t$y + \"!\"\n}\n"
      "test $x {\n\tint64 => 5-3,\n}\nif len($x) > 1 {\n\tprint \"p\" {\n\t\tmsg => "
      "fmt.printf(\"%s\", f(\"hi\")),\n\t}\n}\nfor $i, $v in $x {\n\ttest \"t${v}\" {}\n}\n"
      "test[\"a\"] -> print[\"p\"]\n$m = {\"k\" => 1,}\n$z = $m[\"q\"] <|> 7\n";
  uint64_t state = 0x243f6a8885a308d3ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet = "$\"{}[]()<|>-=,.:\n #\\ab01fxy";
  for (int i = 0; i < 5000; ++i) {
    std::string text = seed;
    int edits = 1 + static_cast<int>(next() % 6);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = next() % (text.size() + 1);
      char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0: text.insert(text.begin() + static_cast<long>(at), c); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = c; break;
      }
    }
    auto result = mgmt::frontends::lang::compile_source(text, "fuzz.mcl");
    if (!result) {
      const std::string& m = result.error().message();
      CHECK(m.find('\n') == std::string::npos);
      CHECK(m.rfind("err", 0) == 0);
    }
  }
}

TEST_CASE("lang: a function that calls itself forever is stopped with an error", "[lang]") {
  auto result = mgmt::frontends::lang::compile_source(
      "func f($x) {\n\tf($x)\n}\ntest f(\"a\") {}\n", "loop.mcl");
  REQUIRE_FALSE(result);
  CHECK(result.error().message().rfind("errStream: f recurses too deeply", 0) == 0);
}
