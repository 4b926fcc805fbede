// register_checker.cpp: see register_checker.h.
#include "test/support/history/register_checker.h"

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_set>

namespace mgmt::test::history {
namespace {

using State = std::optional<std::string>;

// Applies `op` to `state`: false when the op's observed outcome contradicts the state.
bool step(const RegisterOp& op, const State& state, State& next) {
  switch (op.kind) {
    case RegisterOp::Kind::put:
      next = op.value;
      return true;
    case RegisterOp::Kind::get:
      next = state;
      return op.observed == state;
    case RegisterOp::Kind::cas: {
      const bool holds = state == op.expect;
      if (op.unknown) {
        next = holds ? State(op.value) : state;
        return true;
      }
      if (holds != op.succeeded) return false;
      next = holds ? State(op.value) : state;
      return true;
    }
  }
  return false;
}

struct Entry {
  bool is_call = true;
  size_t op = 0;
  int64_t time = 0;
  Entry* match = nullptr;  // call <-> return
  Entry* prev = nullptr;
  Entry* next = nullptr;
};

struct CacheKey {
  std::vector<uint64_t> bits;
  State state;
  bool operator==(const CacheKey&) const = default;
};

struct CacheHash {
  size_t operator()(const CacheKey& k) const {
    size_t h = std::hash<std::string>()(k.state.value_or(std::string("\x01", 1) + "absent"));
    for (uint64_t w : k.bits) h = h * 1000003u ^ std::hash<uint64_t>()(w);
    return h;
  }
};

void lift(Entry* e) {
  e->prev->next = e->next;
  if (e->next) e->next->prev = e->prev;
  Entry* r = e->match;
  r->prev->next = r->next;
  if (r->next) r->next->prev = r->prev;
}

void unlift(Entry* e) {
  Entry* r = e->match;
  r->prev->next = r;
  if (r->next) r->next->prev = r;
  e->prev->next = e;
  if (e->next) e->next->prev = e;
}

}  // namespace

std::string describe(const RegisterOp& op) {
  std::string s = "client " + std::to_string(op.client) + " ";
  switch (op.kind) {
    case RegisterOp::Kind::put: s += "put " + op.value; break;
    case RegisterOp::Kind::get: s += "get -> " + op.observed.value_or("(absent)"); break;
    case RegisterOp::Kind::cas:
      s += "cas " + op.expect.value_or("(absent)") + " -> " + op.value +
           (op.unknown ? " (unknown)" : op.succeeded ? " (held)" : " (failed)");
      break;
  }
  if (op.unknown && op.kind != RegisterOp::Kind::cas) s += " (unknown)";
  return s + " [" + std::to_string(op.call) + ", " +
         (op.unknown ? std::string("inf") : std::to_string(op.ret)) + "]";
}

namespace {

// The search; nullopt when it would visit more than `budget` states.
std::optional<CheckResult> search(const std::vector<RegisterOp>& ops, size_t budget) {
  const size_t n = ops.size();
  std::vector<Entry> entries(2 * n + 1);
  Entry* head = &entries[2 * n];
  std::vector<Entry*> order;
  for (size_t i = 0; i < n; ++i) {
    Entry* c = &entries[2 * i];
    Entry* r = &entries[2 * i + 1];
    c->is_call = true;
    c->op = i;
    c->time = ops[i].call;
    r->is_call = false;
    r->op = i;
    r->time = ops[i].unknown ? std::numeric_limits<int64_t>::max() : ops[i].ret;
    c->match = r;
    r->match = c;
    order.push_back(c);
    order.push_back(r);
  }
  // Time order; at equal times calls first (overlapping, the permissive reading).
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    if (a->time != b->time) return a->time < b->time;
    return a->is_call && !b->is_call;
  });
  Entry* prev = head;
  for (Entry* e : order) {
    prev->next = e;
    e->prev = prev;
    prev = e;
  }
  prev->next = nullptr;

  std::vector<uint64_t> linearized((n + 63) / 64, 0);
  std::unordered_set<CacheKey, CacheHash> cache;
  std::vector<std::pair<Entry*, State>> stack;
  State state;
  Entry* entry = head->next;
  size_t deepest = 0;
  while (head->next != nullptr) {
    if (entry == nullptr) break;
    if (entry->is_call) {
      State next;
      const size_t i = entry->op;
      if (step(ops[i], state, next)) {
        auto bits = linearized;
        bits[i / 64] |= 1ULL << (i % 64);
        if (cache.size() >= budget) return std::nullopt;
        if (cache.insert(CacheKey{bits, next}).second) {
          stack.emplace_back(entry, state);
          state = std::move(next);
          linearized = std::move(bits);
          lift(entry);
          deepest = std::max(deepest, stack.size());
          entry = head->next;
          continue;
        }
      }
      entry = entry->next;
    } else {
      if (stack.empty()) {
        CheckResult bad;
        bad.linearizable = false;
        bad.explanation = "no order explains " + describe(ops[entry->op]) + " (ordered " +
                          std::to_string(deepest) + " of " + std::to_string(n) + " at most)";
        return bad;
      }
      auto [top, saved] = std::move(stack.back());
      stack.pop_back();
      state = std::move(saved);
      linearized[top->op / 64] &= ~(1ULL << (top->op % 64));
      unlift(top);
      entry = top->next;
    }
  }
  return CheckResult{};
}

}  // namespace

CheckResult check_register(const std::vector<RegisterOp>& ops, size_t budget) {
  if (auto r = search(ops, budget)) return *r;
  // Too many orders to try, which unknown outcomes cause (each may take effect anywhere after
  // its call). An unknown write whose value nobody read or expected can always go last (its
  // return is at infinity), so if the history without those is linearizable, so is the whole.
  std::set<std::string> seen;
  for (const auto& op : ops) {
    if (op.observed) seen.insert(*op.observed);
    if (op.expect) seen.insert(*op.expect);
  }
  std::vector<RegisterOp> kept;
  for (const auto& op : ops) {
    if (!(op.unknown && op.kind != RegisterOp::Kind::get && !seen.count(op.value))) {
      kept.push_back(op);
    }
  }
  CheckResult undecided;
  undecided.decided = false;
  undecided.explanation = "undecided: more than " + std::to_string(budget) + " states for " +
                          std::to_string(ops.size()) + " operations";
  if (kept.size() == ops.size()) return undecided;
  auto r = search(kept, budget);
  if (!r) return undecided;
  if (r->linearizable) {
    r->explanation = "linearizable with the " + std::to_string(ops.size() - kept.size()) +
                     " unknown writes nobody observed placed last";
    return *r;
  }
  // Without them it is not, but one of them might explain a failed compare: no verdict.
  undecided.explanation += "; without the unobserved unknown writes: " + r->explanation;
  return undecided;
}

}  // namespace mgmt::test::history
