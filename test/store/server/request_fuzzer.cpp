// request_fuzzer.cpp: a libFuzzer target for what any etcd client can send the store: the KV
// and Lease requests, as protobuf bytes, taken through the path of the member that serves them
// (pb_convert.h, validation, Backend's proposal, the apply of the Raft entry, the response's
// conversion back) on RocksDB (in memory). The Raft log is a direct one: a proposal is
// applied at once as the next entry, as a lone member does once it is synced.
// Input: the first byte picks the request (put, delete, txn, linearizable or serializable range,
// compaction, lease grant, lease revoke, or an InternalRequest as a damaged or future log entry
// would carry it); the rest is its protobuf encoding. An input that does not parse is skipped.
// Checked for every request, besides no crash and no sanitizer report:
//   - a request survives the conversion to the Raft entry: the entry's request is the client's
//     (fields the store knows, unknown ones dropped), so a member applies what it was sent;
//   - the revision never goes back, and a write moves it by one at most;
//   - a put that succeeds is what a read of its key then finds, at the new revision;
//   - a txn answers one response per op of the branch it took; a range answers no more keys
//     than its limit, with a count no smaller than what it answered;
//   - a refused request says why (a message, a non-OK code).
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/server/backend.h"
#include "store/server/pb_convert.h"

#include <google/protobuf/util/message_differencer.h>
#include <rocksdb/env.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

namespace {

using mgmt::Result;
using mgmt::store::server::Backend;
using mgmt::store::server::BackendConfig;
namespace mvcc = mgmt::store::mvcc;
namespace server = mgmt::store::server;

// Raft reduced to its effect on a lone, synced member: each proposal is the next entry, applied
// before propose returns.
class DirectLog final : public server::Replicator {
 public:
  Backend* backend = nullptr;
  bool failed = false;  // an apply failed: the member would stop

  void propose(std::string data, std::function<void(mgmt::Error)> rejected) override {
    mgmt::store::raft::Entry e{1, backend->applied_index() + 1,
                               mgmt::store::raft::EntryType::normal, std::move(data)};
    if (auto r = backend->apply(e); !r) {
      failed = true;
      rejected(r.error());
    }
  }
  Result<void> propose_member_change(const mgmt::store::raft::ConfChange&) override {
    return mgmt::fail(mgmt::Code::unavailable, "not in this fuzzer");
  }
  void read_index_async(std::chrono::milliseconds,
                        std::function<void(Result<uint64_t>)> done) override {
    done(backend->applied_index());
  }
  uint64_t leader_id() const override { return backend->member_id(); }
  uint64_t term() const override { return 1; }
  std::optional<std::pair<uint64_t, uint64_t>> progress(uint64_t) const override {
    return std::nullopt;
  }
};

// The member under test, its storage in memory (RocksDB's MemEnv: the same engine without the
// disk, so that inputs run fast and leave nothing behind). It is opened again on the same
// storage after an apply failed, as a restart would. Never destroyed: at exit RocksDB's own
// statics may be gone before a static of ours would close it.
class Fixture {
 public:
  struct Member {
    DirectLog log;
    std::unique_ptr<Backend> backend;
  };

  Member& member() {
    if (member_ && !member_->log.failed) return *member_;
    member_.reset();
    auto fresh = std::make_unique<Member>();
    BackendConfig config;
    config.data_dir = "/fuzz/member";
    config.storage_env = env_.get();
    auto opened = Backend::open(config);
    if (!opened) {
      std::fprintf(stderr, "request_fuzzer: cannot open the store: %s\n",
                   opened.error().message().c_str());
      std::abort();
    }
    fresh->backend = std::move(*opened);
    fresh->log.backend = fresh->backend.get();
    fresh->backend->attach(&fresh->log);
    fresh->backend->on_leader_change(true);
    member_ = std::move(fresh);
    return *member_;
  }

 private:
  std::unique_ptr<rocksdb::Env> env_{rocksdb::NewMemEnv(rocksdb::Env::Default())};
  std::unique_ptr<Member> member_;
};

using Member = Fixture::Member;

void check(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "request_fuzzer: broken: %s\n", what);
  std::abort();
}

void check_refusal(const mgmt::Error& e) {
  check(!e.message().empty(), "a refused request says why");
  check(e.code() != mgmt::Code::ok, "a refused request has a non-OK code");
}

// What a request means, in the form the entry writes it: a compare's value is the field its
// target names (another field set in its place counts as unset, 0 or empty, as etcd reads it);
// an op without a request is a range of the empty key (which validation refuses).
void normalize(etcdserverpb::RequestOp& op);
void normalize(etcdserverpb::TxnRequest& txn) {
  for (auto& c : *txn.mutable_compare()) {
    etcdserverpb::Compare meant;
    meant.set_result(c.result());
    meant.set_target(c.target());
    meant.set_key(c.key());
    meant.set_range_end(c.range_end());
    switch (c.target()) {
      case etcdserverpb::Compare::VERSION: meant.set_version(c.version()); break;
      case etcdserverpb::Compare::CREATE: meant.set_create_revision(c.create_revision()); break;
      case etcdserverpb::Compare::MOD: meant.set_mod_revision(c.mod_revision()); break;
      case etcdserverpb::Compare::VALUE: meant.set_value(c.value()); break;
      case etcdserverpb::Compare::LEASE: meant.set_lease(c.lease()); break;
      default: break;
    }
    c = meant;
  }
  for (auto& op : *txn.mutable_success()) normalize(op);
  for (auto& op : *txn.mutable_failure()) normalize(op);
}
void normalize(etcdserverpb::RequestOp& op) {
  if (op.request_case() == etcdserverpb::RequestOp::REQUEST_NOT_SET) op.mutable_request_range();
  if (op.has_request_txn()) normalize(*op.mutable_request_txn());
}
template <typename Pb>
void normalize(Pb&) {}

// The conversion into a Raft entry keeps the request: what the wire form says, the entry says.
template <typename Pb>
void check_round_trip(const Pb& request) {
  Pb sent = request;
  sent.DiscardUnknownFields();
  normalize(sent);
  Pb entry;
  server::to_pb_request(server::from_pb(sent), &entry);
  Pb decoded;
  check(decoded.ParseFromString(entry.SerializeAsString()), "an entry's request decodes");
  // Equivalent: a field left out is its default (a compare's unset target value is 0 in etcd).
  google::protobuf::util::MessageDifferencer same;
  same.set_message_field_comparison(google::protobuf::util::MessageDifferencer::EQUIVALENT);
  if (!same.Compare(sent, decoded)) {
    std::fprintf(stderr, "request_fuzzer: sent  %s\nrequest_fuzzer: entry %s\n",
                 sent.ShortDebugString().c_str(), decoded.ShortDebugString().c_str());
    check(false, "the entry's request is the client's");
  }
}

template <typename T, typename Call>
Result<T> wait(Call call) {
  std::promise<Result<T>> outcome;
  call([&outcome](Result<T> r) { outcome.set_value(std::move(r)); });
  return outcome.get_future().get();
}

void check_range(const etcdserverpb::RangeRequest& pb, const Result<mvcc::RangeResponse>& r) {
  if (!r) return check_refusal(r.error());
  check(pb.limit() <= 0 || r->kvs.size() <= static_cast<std::size_t>(pb.limit()),
        "a range answers no more keys than its limit");
  check(r->count >= static_cast<int64_t>(r->kvs.size()) || pb.count_only(),
        "a range's count is at least what it answered");
  etcdserverpb::RangeResponse out;
  server::to_pb(*r, &out);
}

void run_put(Backend& b, const std::string& bytes) {
  etcdserverpb::PutRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  check_round_trip(pb);
  const int64_t before = b.revision();
  auto r = wait<mvcc::PutResponse>(
      [&](auto done) { b.put_async(server::from_pb(pb), std::move(done)); });
  const int64_t after = b.revision();
  if (!r) {
    check(after == before, "a refused put leaves the revision");
    return check_refusal(r.error());
  }
  check(after == before + 1 && r->revision == after, "a put is one new revision");
  mvcc::RangeRequest read;
  read.key = pb.key();
  read.serializable = true;
  auto got = wait<mvcc::RangeResponse>(
      [&](auto done) { b.range_async(read, std::move(done)); });
  check(got && got->kvs.size() == 1, "a put key is found");
  check(got->kvs[0].mod_revision == after, "a put key has the put's revision");
  if (!pb.ignore_value()) check(got->kvs[0].value == pb.value(), "a put key has its value");
  etcdserverpb::PutResponse out;
  server::to_pb(*r, &out);
}

void run_delete(Backend& b, const std::string& bytes) {
  etcdserverpb::DeleteRangeRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  check_round_trip(pb);
  const int64_t before = b.revision();
  auto r = wait<mvcc::DeleteRangeResponse>(
      [&](auto done) { b.delete_range_async(server::from_pb(pb), std::move(done)); });
  const int64_t after = b.revision();
  if (!r) return check_refusal(r.error());
  check(after == before + (r->deleted > 0 ? 1 : 0), "a delete moves the revision if it deleted");
  etcdserverpb::DeleteRangeResponse out;
  server::to_pb(*r, &out);
}

std::size_t branch_ops(const etcdserverpb::TxnRequest& pb, bool succeeded) {
  return static_cast<std::size_t>(succeeded ? pb.success_size() : pb.failure_size());
}

void run_txn(Backend& b, const std::string& bytes) {
  etcdserverpb::TxnRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  check_round_trip(pb);
  const int64_t before = b.revision();
  auto r = wait<mvcc::TxnResponse>(
      [&](auto done) { b.txn_async(server::from_pb(pb), std::move(done)); });
  const int64_t after = b.revision();
  check(after == before || after == before + 1, "a txn is one revision at most");
  if (!r) return check_refusal(r.error());
  check(r->responses.size() == branch_ops(pb, r->succeeded),
        "a txn answers each op of its branch");
  etcdserverpb::TxnResponse out;
  server::to_pb(*r, &out);
}

void run_range(Backend& b, const std::string& bytes, bool serializable) {
  etcdserverpb::RangeRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  check_round_trip(pb);
  pb.set_serializable(serializable);
  const int64_t before = b.revision();
  auto r = wait<mvcc::RangeResponse>(
      [&](auto done) { b.range_async(server::from_pb(pb), std::move(done)); });
  check(b.revision() == before, "a read leaves the revision");
  check_range(pb, r);
}

void run_compact(Backend& b, const std::string& bytes) {
  etcdserverpb::CompactionRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  const int64_t before = b.revision();
  auto r = b.compact(pb.revision());
  check(b.revision() == before, "a compaction leaves the revision");
  if (!r) check_refusal(r.error());
}

void run_lease_grant(Backend& b, const std::string& bytes) {
  etcdserverpb::LeaseGrantRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  const int64_t before = b.revision();
  auto r = b.lease_grant(pb.id(), pb.ttl());
  check(b.revision() == before, "a lease grant leaves the revision");
  if (!r) return check_refusal(r.error());
  check(b.lessor().contains(r->id), "a granted lease exists");
}

void run_lease_revoke(Backend& b, const std::string& bytes) {
  etcdserverpb::LeaseRevokeRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  const int64_t before = b.revision();
  auto r = b.lease_revoke(pb.id());
  check(b.revision() >= before, "a revoke never takes the revision back");
  if (!r) return check_refusal(r.error());
  check(!b.lessor().contains(pb.id()), "a revoked lease is gone");
}

// An entry as the log may hold it: from a member of another version, or written by a bug.
void run_entry(Member& m, const std::string& bytes) {
  mgmtraft::InternalRequest pb;
  if (!pb.ParseFromString(bytes)) return;
  pb.set_id(0);  // nobody waits for it
  const int64_t before = m.backend->revision();
  m.log.propose(pb.SerializeAsString(), [](mgmt::Error) {});
  if (!m.log.failed) check(m.backend->revision() >= before, "an entry never takes it back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  static Fixture* fixture = new Fixture();
  Member& m = fixture->member();
  Backend& b = *m.backend;
  switch (data[0] % 9) {
    case 0: run_put(b, bytes); break;
    case 1: run_delete(b, bytes); break;
    case 2: run_txn(b, bytes); break;
    case 3: run_range(b, bytes, false); break;
    case 4: run_range(b, bytes, true); break;
    case 5: run_compact(b, bytes); break;
    case 6: run_lease_grant(b, bytes); break;
    case 7: run_lease_revoke(b, bytes); break;
    case 8: run_entry(m, bytes); break;
  }
  return 0;
}
