// error.cpp: Error construction and the names of the canonical codes.
#include "common/result.h"

#include <algorithm>

namespace mgmt {

const char* code_name(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::cancelled: return "cancelled";
    case Code::unknown: return "unknown";
    case Code::invalid_argument: return "invalid argument";
    case Code::deadline_exceeded: return "deadline exceeded";
    case Code::not_found: return "not found";
    case Code::already_exists: return "already exists";
    case Code::permission_denied: return "permission denied";
    case Code::resource_exhausted: return "resource exhausted";
    case Code::failed_precondition: return "failed precondition";
    case Code::aborted: return "aborted";
    case Code::out_of_range: return "out of range";
    case Code::unimplemented: return "unimplemented";
    case Code::internal: return "internal";
    case Code::unavailable: return "unavailable";
    case Code::data_loss: return "data loss";
    case Code::unauthenticated: return "unauthenticated";
  }
  return "unknown";
}

Error::Error(Code code, std::string message) : code_(code), message_(std::move(message)) {
  // One line for people: fold any newline a lower layer handed us.
  std::replace(message_.begin(), message_.end(), '\n', ' ');
}

Error Error::with_context(const std::string& context) const {
  return Error(code_, context + ": " + message_);
}

}  // namespace mgmt
