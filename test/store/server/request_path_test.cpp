// request_path_test.cpp: seeded random KV and Lease requests, as a client may send them, through
// a member's own path (test/support/store/request_path.h checks every rule there: the Raft
// entry means what the client sent, revisions, a put read back, a txn's branch answered, a
// range's limit, a refusal that says why). The requests mix what etcdctl sends with what only a
// careless or hostile client does: unknown enum values, negative limits and revisions, nested
// txns, compare targets without their value, leases that do not exist, mangled bytes. The
// libFuzzer target (request_fuzzer.cpp) explores the same path further, as a soak.
#include "test/support/fuzz/mutator.h"
#include "test/support/store/request_path.h"

#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <random>

namespace {

using mgmt::test::RequestPath;
using Kind = RequestPath::Kind;
using Outcome = RequestPath::Outcome;

class Requests {
 public:
  explicit Requests(uint64_t seed) : rng_(seed) {}

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool chance(int percent) { return pick(100) < percent; }
  // A few keys and prefixes, so that requests meet each other's keys.
  std::string key() {
    static const std::array<const char*, 7> keys{"a", "a/1", "a/2", "b", "c", "\xff", ""};
    return keys[static_cast<std::size_t>(pick(chance(3) ? 7 : 6))];
  }
  std::string range_end(const std::string& key) {
    switch (pick(4)) {
      case 0: return std::string(1, '\0');  // from the key on
      case 1: return key.empty() ? "b" : key.substr(0, key.size() - 1) +
                                             static_cast<char>(key.back() + 1);  // the prefix
      case 2: return "c";
      default: return "";  // the key alone
    }
  }
  int64_t number(int64_t typical_max) {
    if (chance(5)) return -1 - pick(3);
    if (chance(2)) return INT64_MAX - pick(2);
    return pick(static_cast<int>(typical_max) + 1);
  }
  int64_t lease() { return chance(70) ? 0 : (chance(50) ? granted_ : number(5)); }
  void granted(int64_t id) { granted_ = id; }

  etcdserverpb::PutRequest put() {
    etcdserverpb::PutRequest r;
    r.set_key(key());
    r.set_value(std::string(static_cast<std::size_t>(pick(40)), static_cast<char>('v' + pick(3))));
    r.set_lease(lease());
    r.set_prev_kv(chance(30));
    r.set_ignore_value(chance(5));
    r.set_ignore_lease(chance(5));
    if (r.ignore_value()) r.clear_value();
    return r;
  }
  etcdserverpb::DeleteRangeRequest del() {
    etcdserverpb::DeleteRangeRequest r;
    r.set_key(key());
    r.set_range_end(range_end(r.key()));
    r.set_prev_kv(chance(30));
    return r;
  }
  etcdserverpb::RangeRequest range(int64_t revision) {
    etcdserverpb::RangeRequest r;
    r.set_key(key());
    r.set_range_end(range_end(r.key()));
    r.set_limit(chance(30) ? number(3) : 0);
    r.set_revision(chance(30) ? revision - number(4) : 0);
    r.set_sort_order(static_cast<etcdserverpb::RangeRequest::SortOrder>(chance(3) ? 3 : pick(3)));
    r.set_sort_target(
        static_cast<etcdserverpb::RangeRequest::SortTarget>(chance(3) ? 9 : pick(5)));
    r.set_keys_only(chance(20));
    r.set_count_only(chance(10));
    if (chance(10)) r.set_min_mod_revision(number(revision));
    if (chance(10)) r.set_max_mod_revision(number(revision));
    if (chance(10)) r.set_min_create_revision(number(revision));
    if (chance(10)) r.set_max_create_revision(number(revision));
    return r;
  }
  etcdserverpb::TxnRequest txn(int64_t revision, int depth = 0) {
    etcdserverpb::TxnRequest r;
    for (int i = pick(3); i > 0; --i) {
      auto* c = r.add_compare();
      c->set_key(key());
      if (chance(20)) c->set_range_end(range_end(c->key()));
      c->set_result(static_cast<etcdserverpb::Compare::CompareResult>(chance(3) ? 7 : pick(4)));
      c->set_target(static_cast<etcdserverpb::Compare::CompareTarget>(chance(3) ? 8 : pick(5)));
      // The value usually in the field its target names, now and then in another.
      switch (chance(80) ? static_cast<int>(c->target()) : pick(6)) {
        case 0: c->set_version(number(3)); break;
        case 1: c->set_create_revision(number(revision)); break;
        case 2: c->set_mod_revision(number(revision)); break;
        case 3: c->set_value(chance(50) ? "" : "vv"); break;
        case 4: c->set_lease(lease()); break;
        default: break;
      }
    }
    for (auto* ops : {r.mutable_success(), r.mutable_failure()}) {
      for (int i = pick(4); i > 0; --i) {
        auto* op = ops->Add();
        switch (pick(depth < 2 ? 5 : 4)) {
          case 0: *op->mutable_request_put() = put(); break;
          case 1: *op->mutable_request_delete_range() = del(); break;
          case 2: *op->mutable_request_range() = range(revision); break;
          case 3: break;  // no request at all
          default: *op->mutable_request_txn() = txn(revision, depth + 1); break;
        }
      }
    }
    return r;
  }

 private:
  std::mt19937_64 rng_;
  int64_t granted_ = 0;
};

}  // namespace

TEST_CASE("request path: random client requests keep every rule of a member's path",
          "[store][request]") {
  std::string broken;
  RequestPath path([&broken](const std::string& what) {
    if (broken.empty()) broken = what;
  });
  Requests make(20261203);
  mgmt::test::Mutator mangle(7);
  std::map<Kind, std::map<Outcome, int>> seen;
  for (int i = 0; i < 6000 && broken.empty(); ++i) {
    const int64_t revision = path.backend().revision();
    Kind kind{};
    std::string bytes;
    switch (make.pick(20)) {
      case 0: case 1: case 2: case 3: case 4:
        kind = Kind::put, bytes = make.put().SerializeAsString();
        break;
      case 5: case 6:
        kind = Kind::delete_range, bytes = make.del().SerializeAsString();
        break;
      case 7: case 8: case 9: case 10:
        kind = Kind::txn, bytes = make.txn(revision).SerializeAsString();
        break;
      case 11: case 12:
        kind = Kind::range, bytes = make.range(revision).SerializeAsString();
        break;
      case 13: case 14:
        kind = Kind::range_serializable, bytes = make.range(revision).SerializeAsString();
        break;
      case 15: {
        etcdserverpb::CompactionRequest c;
        c.set_revision(make.chance(80) ? revision - make.pick(5) : make.number(revision + 3));
        kind = Kind::compact, bytes = c.SerializeAsString();
        break;
      }
      case 16: {
        etcdserverpb::LeaseGrantRequest g;
        g.set_id(make.chance(70) ? 0 : make.number(5));
        g.set_ttl(make.chance(80) ? 60 + make.pick(600) : make.number(3));
        kind = Kind::lease_grant, bytes = g.SerializeAsString();
        break;
      }
      case 17: {
        etcdserverpb::LeaseRevokeRequest r;
        r.set_id(make.lease());
        kind = Kind::lease_revoke, bytes = r.SerializeAsString();
        break;
      }
      default:
        // Mangled bytes of a txn: usually no longer a request at all, sometimes a strange one.
        kind = Kind::txn;
        bytes = mangle.mutate(make.txn(revision).SerializeAsString(),
                              std::string("\x00\x01\x08\x0a\x10\x12\x1a\x22\x7f\x80\xff", 11), 4);
        break;
    }
    const Outcome outcome = path.run(kind, bytes);
    ++seen[kind][outcome];
    if (kind == Kind::lease_grant && outcome == Outcome::done) {
      auto ids = path.backend().lessor().list();
      if (!ids.empty()) make.granted(ids[static_cast<std::size_t>(make.pick(
                            static_cast<int>(ids.size())))]);
    }
  }
  INFO(broken);
  CHECK(broken.empty());
  // The requests reached every part of the path: each kind was served, and each was refused
  // too (a bad key, a compacted or future revision, a missing lease, a bad sort option...).
  for (Kind k : {Kind::put, Kind::delete_range, Kind::txn, Kind::range, Kind::range_serializable,
                 Kind::compact, Kind::lease_grant, Kind::lease_revoke}) {
    INFO("kind " << static_cast<int>(k));
    CHECK(seen[k][Outcome::done] > 0);
    CHECK(seen[k][Outcome::refused] > 0);
  }
  CHECK(path.backend().revision() > 500);
}
