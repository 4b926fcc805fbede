// fuzz_test.cpp: mutated and random programs never crash or hang the lexer, parser or
// interpreter; every failure is one line with its error class.
#include "frontends/lang/lang_frontend.h"

#include <catch2/catch.hpp>

#include "test/support/fuzz/mutator.h"

#include <cstdint>

TEST_CASE("lang: mutated programs never crash the frontend", "[lang][fuzz]") {
  const std::string seed =
      "import \"fmt\"\n$x = [\"a\", \"b\",]\nfunc f($y) {\n\t$y + \"!\"\n}\n"
      "test $x {\n\tint64 => 5-3,\n}\nif len($x) > 1 {\n\tprint \"p\" {\n\t\tmsg => "
      "fmt.printf(\"%s\", f(\"hi\")),\n\t}\n}\nfor $i, $v in $x {\n\ttest \"t${v}\" {}\n}\n"
      "test[\"a\"] -> print[\"p\"]\n$m = {\"k\" => 1,}\n$z = $m[\"q\"] <|> 7\n";
  mgmt::test::Mutator mutator(0x9e3779b97f4a7c15ULL);
  const std::string alphabet = "$\"{}[]()<|>-=,.:\n #\\ab01fxy";
  for (int i = 0; i < 5000; ++i) {
    std::string text = mutator.mutate(seed, alphabet, 6);
    auto result = mgmt::frontends::lang::compile_source(text, "fuzz.mcl");
    if (!result) {
      const std::string& m = result.error().message();
      CHECK(m.find('\n') == std::string::npos);
      CHECK(m.rfind("err", 0) == 0);
    }
  }
}

TEST_CASE("lang: a function that calls itself is refused (the function graph is a DAG), as "
          "are classes that include each other", "[lang]") {
  auto result = mgmt::frontends::lang::compile_source(
      "func f($x) {\n\tf($x)\n}\ntest f(\"a\") {}\n", "loop.mcl");
  REQUIRE_FALSE(result);
  CHECK(result.error().message() == "errSetScope: recursive reference while setting scope: not "
                                    "a dag: func f calls itself (loop.mcl @ 2:2)");
  auto lambda = mgmt::frontends::lang::compile_source(
      "$f = func($x) { $f($x) }\ntest $f(\"a\") {}\n", "lambda.mcl");
  REQUIRE_FALSE(lambda);
  CHECK(lambda.error().message().rfind("errSetScope: recursive reference", 0) == 0);
  auto classes = mgmt::frontends::lang::compile_source(
      "class a {\n\tinclude b\n}\nclass b {\n\tinclude a\n}\n", "classes.mcl");
  REQUIRE_FALSE(classes);
  CHECK(classes.error().message().rfind("errSetScope: recursive reference", 0) == 0);
}

TEST_CASE("lang: mutated templates never crash golang.template", "[lang][fuzz]") {
  const std::string seed =
      "import \"golang\"\n$v = {\"a\" => [struct{n => 1}], \"b\" => []}\n"
      "test [golang.template(\"{{ range $k, $l := . }}{{ $k }}{{ range $l }}{{ .N }}{{ end }}"
      "{{ else }}-{{ end }}{{ if .a }}{{ index .a 0 }}{{ len .b }}{{ end }}\", $v)] {}\n";
  mgmt::test::Mutator mutator(0x5eed0fu);
  const std::string alphabet = "{} .$():=\"aNbkl0 rangeifendelsindx";
  for (int i = 0; i < 5000; ++i) {
    std::string text = mutator.mutate(seed, alphabet, 4);
    auto result = mgmt::frontends::lang::compile_source(text, "fuzz.mcl");
    if (!result) {
      const std::string& m = result.error().message();
      CHECK(m.find('\n') == std::string::npos);
      CHECK(m.rfind("err", 0) == 0);
    }
  }
}
