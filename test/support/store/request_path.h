// request_path.h: one member's path for the requests a client sends, driven without gRPC, for
// the request fuzzer (test/store/server/request_fuzzer.cpp, libFuzzer) and the request path
// test (the unit tier, seeded random requests). A request, as protobuf bytes, goes as the KV
// and Lease services take it: its conversion (pb_convert.h), validation, the Backend's
// proposal, the apply of the Raft entry, the response's conversion back. The Raft log is a
// direct one: a proposal is applied at once as the next entry, as a lone member does once it is
// synced. The storage is RocksDB in memory (MemEnv: the same engine without the disk).
// Checked for every request; a broken rule is told to the `Broken` callback:
//   - the conversion to the Raft entry keeps the request: the entry means what the client sent
//     (the fields the store knows; unknown ones are dropped);
//   - the revision never goes back, and a write moves it by one at most;
//   - a put that succeeds is what a read of its key then finds, at the new revision;
//   - a txn answers one response per op of the branch it took; a range answers no more keys
//     than its limit, with a count no smaller than what it answered;
//   - a refused request says why (a message, a non-OK code).
// An apply that fails stops a real member; here the member is opened again on the same storage,
// as a restart would.
// Thread-safety: one thread.
#pragma once

#include "store/server/backend.h"
#include "store/server/pb_convert.h"

#include <google/protobuf/util/message_differencer.h>
#include <rocksdb/env.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>

namespace mgmt::test {

class RequestPath {
 public:
  enum class Kind : uint8_t {
    put,
    delete_range,
    txn,
    range,
    range_serializable,
    compact,
    lease_grant,
    lease_revoke,
    entry,  // an InternalRequest, as a damaged log or one from another version may carry it
    count
  };
  enum class Outcome { unparsed, refused, done };
  using Broken = std::function<void(const std::string& what)>;

  explicit RequestPath(Broken broken) : broken_(std::move(broken)) {}

  Outcome run(Kind kind, const std::string& bytes) {
    Member& m = member();
    switch (kind) {
      case Kind::put: return run_put(*m.backend, bytes);
      case Kind::delete_range: return run_delete(*m.backend, bytes);
      case Kind::txn: return run_txn(*m.backend, bytes);
      case Kind::range: return run_range(*m.backend, bytes, false);
      case Kind::range_serializable: return run_range(*m.backend, bytes, true);
      case Kind::compact: return run_compact(*m.backend, bytes);
      case Kind::lease_grant: return run_lease_grant(*m.backend, bytes);
      case Kind::lease_revoke: return run_lease_revoke(*m.backend, bytes);
      case Kind::entry: return run_entry(m, bytes);
      case Kind::count: break;
    }
    return Outcome::unparsed;
  }

  store::server::Backend& backend() { return *member().backend; }

 private:
  using Backend = store::server::Backend;

  // Raft reduced to its effect on a lone, synced member.
  class DirectLog final : public store::server::Replicator {
   public:
    Backend* backend = nullptr;
    bool failed = false;  // an apply failed: the member would stop

    void propose(std::string data, std::function<void(Error)> rejected) override {
      store::raft::Entry e{1, backend->applied_index() + 1, store::raft::EntryType::normal,
                           std::move(data)};
      if (auto r = backend->apply(e); !r) {
        failed = true;
        rejected(r.error());
      }
    }
    Result<void> propose_member_change(const store::raft::ConfChange&) override {
      return fail(Code::unavailable, "a direct log has no membership");
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

  struct Member {
    DirectLog log;
    std::unique_ptr<Backend> backend;
  };

  Member& member() {
    if (member_ && !member_->log.failed) return *member_;
    member_.reset();
    auto fresh = std::make_unique<Member>();
    store::server::BackendConfig config;
    config.data_dir = "/request-path/member";
    config.storage_env = env_.get();
    auto opened = Backend::open(config);
    if (!opened) {
      broken_("the store does not open: " + opened.error().message());
      std::abort();
    }
    fresh->backend = std::move(*opened);
    fresh->log.backend = fresh->backend.get();
    fresh->backend->attach(&fresh->log);
    fresh->backend->on_leader_change(true);
    member_ = std::move(fresh);
    return *member_;
  }

  bool check(bool holds, const std::string& what) {
    if (!holds) broken_(what);
    return holds;
  }

  Outcome refused(const Error& e) {
    check(!e.message().empty(), "a refused request says why");
    check(e.code() != Code::ok, "a refused request has a non-OK code");
    return Outcome::refused;
  }

  // What a request means, in the form the entry writes it: a compare's value is the field its
  // target names (another field set in its place counts as unset, 0 or empty, as etcd reads
  // it); an op without a request is a range of the empty key (which validation refuses).
  static void normalize(etcdserverpb::TxnRequest& txn) {
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
    for (auto* ops : {txn.mutable_success(), txn.mutable_failure()}) {
      for (auto& op : *ops) {
        if (op.request_case() == etcdserverpb::RequestOp::REQUEST_NOT_SET) {
          op.mutable_request_range();
        }
        if (op.has_request_txn()) normalize(*op.mutable_request_txn());
      }
    }
  }
  template <typename Pb>
  static void normalize(Pb&) {}

  template <typename Pb>
  void check_round_trip(const Pb& request) {
    Pb sent = request;
    sent.DiscardUnknownFields();
    normalize(sent);
    Pb entry;
    store::server::to_pb_request(store::server::from_pb(sent), &entry);
    Pb decoded;
    if (!check(decoded.ParseFromString(entry.SerializeAsString()), "an entry's request decodes")) {
      return;
    }
    // Equivalent: a field left out is its default.
    google::protobuf::util::MessageDifferencer same;
    same.set_message_field_comparison(google::protobuf::util::MessageDifferencer::EQUIVALENT);
    check(same.Compare(sent, decoded), "the entry's request is the client's: sent {" +
                                           sent.ShortDebugString() + "}, entry {" +
                                           decoded.ShortDebugString() + "}");
  }

  template <typename T, typename Call>
  static Result<T> wait(Call call) {
    std::promise<Result<T>> outcome;
    call([&outcome](Result<T> r) { outcome.set_value(std::move(r)); });
    return outcome.get_future().get();
  }

  // A KV request as its service serves it: converted, handed to the Backend (`async`), waited
  // for, and the response converted back to the wire; with the revision before and after.
  template <typename Response>
  struct Served {
    Result<Response> result;
    int64_t before = 0;
    int64_t after = 0;
  };
  template <typename Response, typename WireResponse, typename Wire, typename Async>
  static Served<Response> serve(Backend& b, const Wire& pb, Async async) {
    Served<Response> s;
    s.before = b.revision();
    s.result = wait<Response>(
        [&](auto done) { (b.*async)(store::server::from_pb(pb), std::move(done)); });
    s.after = b.revision();
    if (s.result) {
      WireResponse out;
      store::server::to_pb(*s.result, &out);
    }
    return s;
  }

  Outcome run_put(Backend& b, const std::string& bytes) {
    etcdserverpb::PutRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    check_round_trip(pb);
    auto [r, before, after] =
        serve<store::mvcc::PutResponse, etcdserverpb::PutResponse>(b, pb, &Backend::put_async);
    if (!r) {
      check(after == before, "a refused put leaves the revision");
      return refused(r.error());
    }
    check(after == before + 1 && r->revision == after, "a put is one new revision");
    store::mvcc::RangeRequest read;
    read.key = pb.key();
    read.serializable = true;
    auto got = wait<store::mvcc::RangeResponse>(
        [&](auto done) { b.range_async(read, std::move(done)); });
    if (check(got && got->kvs.size() == 1, "a put key is found")) {
      check(got->kvs[0].mod_revision == after, "a put key has the put's revision");
      if (!pb.ignore_value()) check(got->kvs[0].value == pb.value(), "a put key has its value");
    }
    return Outcome::done;
  }

  Outcome run_delete(Backend& b, const std::string& bytes) {
    etcdserverpb::DeleteRangeRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    check_round_trip(pb);
    auto [r, before, after] =
        serve<store::mvcc::DeleteRangeResponse, etcdserverpb::DeleteRangeResponse>(
            b, pb, &Backend::delete_range_async);
    if (!r) return refused(r.error());
    check(after == before + (r->deleted > 0 ? 1 : 0), "a delete moves the revision if it deleted");
    return Outcome::done;
  }

  Outcome run_txn(Backend& b, const std::string& bytes) {
    etcdserverpb::TxnRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    check_round_trip(pb);
    auto [r, before, after] =
        serve<store::mvcc::TxnResponse, etcdserverpb::TxnResponse>(b, pb, &Backend::txn_async);
    check(after == before || after == before + 1, "a txn is one revision at most");
    if (!r) return refused(r.error());
    const auto ops = static_cast<std::size_t>(r->succeeded ? pb.success_size()
                                                           : pb.failure_size());
    check(r->responses.size() == ops, "a txn answers each op of its branch");
    return Outcome::done;
  }

  Outcome run_range(Backend& b, const std::string& bytes, bool serializable) {
    etcdserverpb::RangeRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    check_round_trip(pb);
    pb.set_serializable(serializable);
    auto [r, before, after] = serve<store::mvcc::RangeResponse, etcdserverpb::RangeResponse>(
        b, pb, &Backend::range_async);
    check(after == before, "a read leaves the revision");
    if (!r) return refused(r.error());
    check(pb.limit() <= 0 || r->kvs.size() <= static_cast<std::size_t>(pb.limit()),
          "a range answers no more keys than its limit");
    check(pb.count_only() || r->count >= static_cast<int64_t>(r->kvs.size()),
          "a range's count is at least what it answered");
    return Outcome::done;
  }

  Outcome run_compact(Backend& b, const std::string& bytes) {
    etcdserverpb::CompactionRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    const int64_t before = b.revision();
    auto r = b.compact(pb.revision());
    check(b.revision() == before, "a compaction leaves the revision");
    return r ? Outcome::done : refused(r.error());
  }

  Outcome run_lease_grant(Backend& b, const std::string& bytes) {
    etcdserverpb::LeaseGrantRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    const int64_t before = b.revision();
    auto r = b.lease_grant(pb.id(), pb.ttl());
    check(b.revision() == before, "a lease grant leaves the revision");
    if (!r) return refused(r.error());
    check(b.lessor().contains(r->id), "a granted lease exists");
    return Outcome::done;
  }

  Outcome run_lease_revoke(Backend& b, const std::string& bytes) {
    etcdserverpb::LeaseRevokeRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    const int64_t before = b.revision();
    auto r = b.lease_revoke(pb.id());
    check(b.revision() >= before, "a revoke never takes the revision back");
    if (!r) return refused(r.error());
    check(!b.lessor().contains(pb.id()), "a revoked lease is gone");
    return Outcome::done;
  }

  Outcome run_entry(Member& m, const std::string& bytes) {
    mgmtraft::InternalRequest pb;
    if (!pb.ParseFromString(bytes)) return Outcome::unparsed;
    pb.set_id(0);  // nobody waits for it
    const int64_t before = m.backend->revision();
    m.log.propose(pb.SerializeAsString(), [](Error) {});
    if (m.log.failed) return Outcome::refused;
    check(m.backend->revision() >= before, "an entry never takes the revision back");
    return Outcome::done;
  }

  Broken broken_;
  std::unique_ptr<rocksdb::Env> env_{rocksdb::NewMemEnv(rocksdb::Env::Default())};
  std::unique_ptr<Member> member_;
};

}  // namespace mgmt::test
