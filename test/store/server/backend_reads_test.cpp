// backend_reads_test.cpp: how the Backend answers reads (range_async). A linearizable read is
// answered only once this member has applied its read point, with what was applied up to it;
// one whose read point is not applied by the request timeout fails with etcd's words; a read
// of many keys is answered from a reader thread, never from the thread that learnt the read
// point (the Raft host's or a peer's, which must not stall behind a long scan).
// The Raft host is replaced by a Replicator whose read point the test sets; entries are applied
// by hand, as the Raft host would apply them.
#include "store/server/backend.h"

#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <future>
#include <optional>
#include <string>
#include <thread>

using namespace mgmt::store;
using mgmt::Code;
using mgmt::Error;
using mgmt::Result;

namespace {

// A Replicator that proposes nothing and answers every read point at once with `read_point`.
class FixedReadPoint : public server::Replicator {
 public:
  explicit FixedReadPoint(uint64_t read_point) : read_point_(read_point) {}
  void propose(std::string, std::function<void(Error)> rejected) override {
    rejected(Error(Code::unavailable, "no Raft in this test"));
  }
  Result<void> propose_member_change(const raft::ConfChange&) override {
    return mgmt::fail(Code::unavailable, "no Raft in this test");
  }
  void read_index_async(std::chrono::milliseconds,
                        std::function<void(Result<uint64_t>)> done) override {
    done(read_point_);
  }
  uint64_t leader_id() const override { return 1; }
  uint64_t term() const override { return 1; }
  std::optional<std::pair<uint64_t, uint64_t>> progress(uint64_t) const override { return {}; }

 private:
  uint64_t read_point_;
};

// The log entry of a put, at `index` (nobody waits for it: id 0).
raft::Entry put_entry(uint64_t index, const std::string& key, const std::string& value) {
  mgmtraft::InternalRequest req;
  req.mutable_put()->set_key(key);
  req.mutable_put()->set_value(value);
  return raft::Entry{1, index, raft::EntryType::normal, req.SerializeAsString()};
}

struct Fixture {
  explicit Fixture(uint64_t read_point, std::chrono::milliseconds timeout =
                                            std::chrono::milliseconds(7000))
      : replicator(read_point) {
    server::BackendConfig config;
    config.data_dir = dir.path();
    config.request_timeout = timeout;
    auto opened = server::Backend::open(config);
    REQUIRE(opened);
    backend = std::move(*opened);
    backend->attach(&replicator);
  }
  void apply(const raft::Entry& e) { REQUIRE(backend->apply_all({&e, 1})); }

  mgmt::test::TempDir dir;
  FixedReadPoint replicator;
  std::unique_ptr<server::Backend> backend;
};

mvcc::RangeRequest get(const std::string& key) {
  mvcc::RangeRequest r;
  r.key = key;
  return r;
}

}  // namespace

TEST_CASE("backend reads: a linearizable read waits until its read point is applied here",
          "[reads]") {
  const uint64_t base = Fixture(0).backend->applied_index();
  Fixture f(base + 2);
  std::optional<Result<mvcc::RangeResponse>> got;
  f.backend->range_async(get("k"), [&](Result<mvcc::RangeResponse> r) { got = std::move(r); });
  CHECK_FALSE(got);  // the read point is ahead of this member
  f.apply(put_entry(base + 1, "k", "one"));
  CHECK_FALSE(got);  // still ahead: "one" is not what the read point saw
  f.apply(put_entry(base + 2, "k", "two"));
  REQUIRE(got);
  REQUIRE(*got);
  REQUIRE((*got)->kvs.size() == 1);
  CHECK((*got)->kvs[0].value == "two");

  // A serializable read does not wait: it reads what is applied here now.
  auto local = get("k");
  local.serializable = true;
  std::optional<Result<mvcc::RangeResponse>> now;
  f.backend->range_async(local, [&](Result<mvcc::RangeResponse> r) { now = std::move(r); });
  REQUIRE(now);
  REQUIRE(*now);
  CHECK((*now)->kvs.at(0).value == "two");
}

TEST_CASE("backend reads: a read point not applied by the request timeout fails with etcd's "
          "words, and so does one waiting when the member stops", "[reads]") {
  Fixture f(1000, std::chrono::milliseconds(0));
  std::optional<Result<mvcc::RangeResponse>> got;
  f.backend->range_async(get("k"), [&](Result<mvcc::RangeResponse> r) { got = std::move(r); });
  CHECK_FALSE(got);
  f.backend->expire_waiters();  // the Raft host calls it every tick
  REQUIRE(got);
  REQUIRE_FALSE(*got);
  CHECK(got->error().code() == Code::unavailable);
  CHECK(got->error().message() == "etcdserver: request timed out");

  Fixture g(1000);
  std::optional<Result<mvcc::RangeResponse>> stopped;
  g.backend->range_async(get("k"), [&](Result<mvcc::RangeResponse> r) { stopped = std::move(r); });
  g.backend->expire_waiters();
  CHECK_FALSE(stopped);  // within its timeout
  g.backend->fail_waiters(Error(Code::unavailable, "etcdserver: server stopped"));
  REQUIRE(stopped);
  REQUIRE_FALSE(*stopped);
  CHECK(stopped->error().message() == "etcdserver: server stopped");
}

TEST_CASE("backend reads: a read of many keys is answered from a reader thread, a read of one "
          "key where its read point was learnt", "[reads]") {
  const uint64_t base = Fixture(0).backend->applied_index();
  Fixture f(base + 3);
  f.apply(put_entry(base + 1, "a", "1"));
  f.apply(put_entry(base + 2, "b", "2"));
  f.apply(put_entry(base + 3, "c", "3"));

  std::promise<std::pair<std::thread::id, Result<mvcc::RangeResponse>>> ranged;
  mvcc::RangeRequest all;
  all.key = "a";
  all.range_end = "z";
  f.backend->range_async(all, [&](Result<mvcc::RangeResponse> r) {
    ranged.set_value({std::this_thread::get_id(), std::move(r)});
  });
  auto [range_thread, range] = ranged.get_future().get();
  CHECK(range_thread != std::this_thread::get_id());
  REQUIRE(range);
  CHECK(range->kvs.size() == 3);
  CHECK(range->count == 3);

  std::optional<std::thread::id> get_thread;
  f.backend->range_async(get("b"), [&](Result<mvcc::RangeResponse> r) {
    REQUIRE(r);
    CHECK(r->kvs.at(0).value == "2");
    get_thread = std::this_thread::get_id();
  });
  REQUIRE(get_thread);
  CHECK(*get_thread == std::this_thread::get_id());
}
