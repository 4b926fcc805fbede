// register_checker_test.cpp: the linearizability checker accepts histories a register can
// produce and rejects those it cannot (stale reads, lost writes, impossible compare-and-sets),
// so that a clean result of the store's history test means something.
#include "test/support/history/register_checker.h"

#include <catch.hpp>

using mgmt::test::history::check_register;
using mgmt::test::history::RegisterOp;
using Kind = RegisterOp::Kind;

namespace {

RegisterOp put(const std::string& v, int64_t call, int64_t ret, bool unknown = false) {
  RegisterOp op;
  op.kind = Kind::put;
  op.value = v;
  op.call = call;
  op.ret = ret;
  op.unknown = unknown;
  return op;
}

RegisterOp get(std::optional<std::string> seen, int64_t call, int64_t ret) {
  RegisterOp op;
  op.kind = Kind::get;
  op.observed = std::move(seen);
  op.call = call;
  op.ret = ret;
  return op;
}

RegisterOp cas(std::optional<std::string> expect, const std::string& v, bool held, int64_t call,
               int64_t ret) {
  RegisterOp op;
  op.kind = Kind::cas;
  op.expect = std::move(expect);
  op.value = v;
  op.succeeded = held;
  op.call = call;
  op.ret = ret;
  return op;
}

}  // namespace

TEST_CASE("history checker: sequential and overlapping histories a register can give pass",
          "[unit]") {
  CHECK(check_register({put("a", 0, 1), get("a", 2, 3)}).linearizable);
  // The get overlaps the put: it may see either.
  CHECK(check_register({put("a", 0, 10), get(std::nullopt, 1, 2), get("a", 3, 4)}).linearizable);
  CHECK(check_register({put("a", 0, 1), cas("a", "b", true, 2, 3), get("b", 4, 5),
                        cas("a", "c", false, 6, 7)})
            .linearizable);
  // An unknown write may take effect late, or never.
  CHECK(check_register({put("a", 0, 1), put("b", 2, 0, true), get("a", 3, 4), get("b", 5, 6)})
            .linearizable);
  CHECK(check_register({put("a", 0, 1), put("b", 2, 0, true), get("a", 3, 4)}).linearizable);
}

TEST_CASE("history checker: stale reads, lost writes and impossible CAS are caught", "[unit]") {
  // A read after a completed write does not see it.
  auto stale = check_register({put("a", 0, 1), put("b", 2, 3), get("a", 4, 5)});
  CHECK_FALSE(stale.linearizable);
  CHECK_FALSE(stale.explanation.empty());
  CHECK_FALSE(check_register({put("a", 0, 1), get(std::nullopt, 2, 3)}).linearizable);
  // Two CAS from the same value both succeed.
  CHECK_FALSE(check_register({put("a", 0, 1), cas("a", "b", true, 2, 3),
                              cas("a", "c", true, 4, 5)})
                  .linearizable);
  // A value read that nobody wrote.
  CHECK_FALSE(check_register({put("a", 0, 1), get("z", 2, 3)}).linearizable);
}

TEST_CASE("history checker: past its budget it puts unobserved unknown writes last, and a "
          "history it cannot decide is said to be undecided",
          "[unit]") {
  // Many unknown writes that nobody read: the full search is cut off by a tiny budget, and the
  // history without them decides.
  std::vector<RegisterOp> ops = {put("a", 0, 1)};
  for (int i = 0; i < 12; ++i) ops.push_back(put("u" + std::to_string(i), 2 + i, 0, true));
  ops.push_back(get("a", 20, 21));
  auto r = check_register(ops, 50);
  CHECK(r.decided);
  CHECK(r.linearizable);
  CHECK(r.explanation.find("placed last") != std::string::npos);
  // A stale read stays a violation when decided that way.
  ops.push_back(put("b", 22, 23));
  ops.push_back(get("a", 24, 25));
  auto bad = check_register(ops, 50);
  // Cut off, and the history without the unknown writes fails: that proves nothing (one of
  // them might have explained it), so no verdict.
  CHECK_FALSE(bad.decided);
  // With room to search, the full history is judged: not linearizable.
  auto full = check_register(ops);
  CHECK(full.decided);
  CHECK_FALSE(full.linearizable);
}
