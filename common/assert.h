// assert.h: MGMT_ASSERT, for bugs only (an invariant of our own code broke). Always compiled in;
// logs file:line and the condition, then aborts. Input from users or peers is never checked with
// it: bad input gets an Error and the daemon stays up.
#pragma once

namespace mgmt::detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line,
                                const char* message);
}  // namespace mgmt::detail

#define MGMT_ASSERT(cond)                                                      \
  do {                                                                         \
    if (!(cond)) ::mgmt::detail::assert_failed(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define MGMT_ASSERT_MSG(cond, msg)                                              \
  do {                                                                          \
    if (!(cond)) ::mgmt::detail::assert_failed(#cond, __FILE__, __LINE__, msg); \
  } while (0)
