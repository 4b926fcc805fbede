// result.h: mgmt::Result<T>, the return type of every operation that can fail for an expected
// reason (bad input, key not found, peer unreachable, not leader).
// An Error carries a gRPC-canonical code (so store/server maps it with one switch) and one line
// of text for people: what failed, why, and what to do about it.
// Invariants: Error::message is a single line (no '\n'); Code::ok is never stored in an Error.
// Thread-safety: plain values.
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <utility>

namespace mgmt {

// The gRPC canonical codes, by the same numbers.
enum class Code : int {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

const char* code_name(Code code);

class Error {
 public:
  Error(Code code, std::string message);

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", for wrapping a lower-level error once at a boundary. Callers must not
  // wrap twice with the same context (no error message repeats itself).
  Error with_context(const std::string& context) const;

 private:
  Code code_;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Shorthand for `return mgmt::fail(Code::not_found, "...")` in a function returning Result<T>.
inline tl::unexpected<Error> fail(Code code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Result<void> helper for "success, nothing to return".
inline Result<void> ok() { return {}; }

}  // namespace mgmt
