// utf8.h: whether bytes are UTF-8 text, and how to show bytes that may not be. Names that go
// into JSON (deploy payloads, host statuses) or into proto3 strings (a member's name) must be
// UTF-8, or the encoder throws or the decoder refuses; check them where the user gives them.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mgmt {

// True when `text` is UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
// past U+10FFFF, no sequence cut short.
bool is_utf8(std::string_view text);

// `text` with every byte that is not printable ASCII, and '"' and '\', written as \xNN: what a
// one-line message quotes when the bytes came from outside.
std::string escape_bytes(std::string_view text);

}  // namespace mgmt
