// utf8_test.cpp: what counts as UTF-8 text, how bytes from outside are quoted, and JSON text
// that never throws on a string that is not UTF-8.
#include "common/json_text.h"
#include "common/utf8.h"

#include <catch2/catch.hpp>

using mgmt::escape_bytes;
using mgmt::is_utf8;
using mgmt::json_text;

TEST_CASE("utf8: text as RFC 3629 has it, nothing else", "[unit]") {
  CHECK(is_utf8(""));
  CHECK(is_utf8("plain ascii"));
  CHECK(is_utf8("caf\xc3\xa9"));          // é
  CHECK(is_utf8("\xe2\x82\xac"));         // €
  CHECK(is_utf8("\xf4\x8f\xbf\xbf"));     // U+10FFFF, the last
  CHECK_FALSE(is_utf8("caf\xe9"));        // Latin-1
  CHECK_FALSE(is_utf8("\xc0\xaf"));       // an overlong '/'
  CHECK_FALSE(is_utf8("\xe0\x80\xaf"));   // an overlong '/' in three bytes
  CHECK_FALSE(is_utf8("\xed\xa0\x80"));   // a surrogate
  CHECK_FALSE(is_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_utf8("\xe2\x82"));       // cut short
  CHECK_FALSE(is_utf8("\x80"));           // a continuation alone
}

TEST_CASE("utf8: bytes from outside are quoted printable", "[unit]") {
  CHECK(escape_bytes("host-1.example") == "host-1.example");
  CHECK(escape_bytes("caf\xe9\t\"\\") == "caf\\xe9\\x09\\x22\\x5c");
}

TEST_CASE("json text: a string that is not UTF-8 becomes U+FFFD, and nothing throws", "[unit]") {
  const nlohmann::json value = {{"content", "caf\xe9"}, {"n", 1}};
  CHECK_THROWS(value.dump());  // what json_text is for
  CHECK(json_text(value) == "{\"content\":\"caf\xef\xbf\xbd\",\"n\":1}");
  CHECK(json_text(nlohmann::json{{"a", "ok"}}, 1) == "{\n \"a\": \"ok\"\n}");
  nlohmann::ordered_json ordered;
  ordered["z"] = 1;
  ordered["a"] = 2;
  CHECK(json_text(ordered) == "{\"z\":1,\"a\":2}");  // the order it was given
}
