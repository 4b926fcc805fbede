// maintenance_service.cpp: etcd's Maintenance service: Status (with the raised alarms as
// errors), Alarm (alarms.h), Defragment (Storage::compact_all: the space of what was deleted is
// free when it answers), HashKV (etcd 3.4's hash of the key/value history, bit for bit:
// KvStore::hash_kv), Hash (the same hash of the whole history; etcd's hashes its bolt file,
// which ours has not), Snapshot (the state dump of storage.h, streamed in
// chunks; docs/formats/storage.md describes it) and MoveLeader (a Raft leadership transfer).
#include "store/server/etcd_errors.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"
#include "store/storage/snapshot_file.h"

namespace mgmt::store::server {
namespace {

constexpr std::size_t kSnapshotChunkBytes = 32 * 1024;

class MaintenanceService final {
 public:
  explicit MaintenanceService(ServiceContext& context) : context_(context) {}

  grpc::Status Status(const etcdserverpb::StatusRequest*, etcdserverpb::StatusResponse* response) {
    auto& b = context_.backend;
    context_.fill(response->mutable_header());
    response->set_version(kServerVersion);
    // On disk, the state's files (not the Raft log's: etcd's db, not its WAL); in use, what the
    // space quota counts (space_quota.h).
    response->set_dbsize(b.storage().state_bytes());
    response->set_dbsizeinuse(b.quota().state_bytes());
    const RaftHost* host = context_.host;
    response->set_leader(host ? host->leader_id() : b.member_id());
    if (response->leader() == 0) response->add_errors(kErrNoLeader);
    for (const auto& alarm : b.alarms()) {
      // As Go's text form of the AlarmMember, which etcd sends (zero fields left out).
      std::string text;
      if (alarm.memberid() != 0) text += "memberID:" + std::to_string(alarm.memberid()) + " ";
      if (alarm.alarm() != etcdserverpb::NONE) {
        text += "alarm:" + etcdserverpb::AlarmType_Name(alarm.alarm()) + " ";
      }
      response->add_errors(text);
    }
    response->set_raftindex(host ? host->commit_index() : b.applied_index());
    response->set_raftterm(b.raft_term());
    response->set_raftappliedindex(b.applied_index());
    auto self = b.member(b.member_id());
    response->set_islearner(self && self->is_learner());
    return grpc::Status::OK;
  }

  // No header, as etcd 3.4's (its alarm answers come from the applier, unfilled): the JSON
  // gateway's answer is {} on both.
  grpc::Status Alarm(const etcdserverpb::AlarmRequest* request,
                     etcdserverpb::AlarmResponse* response) {
    if (auto c = Alarms::check_request(*request); !c) return to_status(c.error());
    auto r = context_.backend.alarm(*request);
    if (!r) return to_status(r.error());
    response->mutable_alarms()->Swap(r->mutable_alarms());
    return grpc::Status::OK;
  }

  // No header, as etcd 3.4's.
  grpc::Status Defragment(const etcdserverpb::DefragmentRequest*,
                          etcdserverpb::DefragmentResponse*) {
    if (auto f = context_.backend.storage().compact_all(); !f) return to_status(f.error());
    return grpc::Status::OK;
  }

  grpc::Status Hash(const etcdserverpb::HashRequest*, etcdserverpb::HashResponse* response) {
    context_.fill(response->mutable_header());
    response->set_hash(context_.backend.kv().hash_kv(0));
    return grpc::Status::OK;
  }

  grpc::Status HashKV(const etcdserverpb::HashKVRequest* request,
                      etcdserverpb::HashKVResponse* response) {
    auto& kv = context_.backend.kv();
    int64_t revision = request->revision();
    if (revision > 0 && revision <= kv.compact_main_revision()) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                          "etcdserver: mvcc: required revision has been compacted");
    }
    if (revision > kv.current_revision()) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                          "etcdserver: mvcc: required revision is a future revision");
    }
    context_.fill(response->mutable_header());
    response->set_hash(kv.hash_kv(revision));
    response->set_compact_revision(kv.compact_main_revision());
    return grpc::Status::OK;
  }

  grpc::Status Snapshot(const etcdserverpb::SnapshotRequest&,
                        rpc::Writer<etcdserverpb::SnapshotResponse>* writer) {
    auto dump = context_.backend.storage().dump_state();
    if (!dump) return to_status(dump.error());
    // etcdctl keeps only a stream that ends in a digest after whole 512-byte blocks. As etcd
    // 3.4: no header; the data in chunks, remaining_bytes counting down to 0; then the digest
    // in a message of its own.
    const std::string file = storage::snapshot_file(*dump);
    const std::size_t body = file.size() - storage::kSha256Bytes;
    std::size_t sent = 0;
    do {
      const std::size_t n = std::min(kSnapshotChunkBytes, body - sent);
      etcdserverpb::SnapshotResponse chunk;
      chunk.set_blob(file.substr(sent, n));
      sent += n;
      chunk.set_remaining_bytes(body - sent);
      if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client left");
    } while (sent < body);
    etcdserverpb::SnapshotResponse digest;
    digest.set_blob(file.substr(body));
    if (!writer->Write(digest)) return grpc::Status(grpc::StatusCode::CANCELLED, "client left");
    return grpc::Status::OK;
  }

  // As etcd 3.4's: a member that does not lead says so before it looks at the target, and the
  // answer has no header.
  grpc::Status MoveLeader(const etcdserverpb::MoveLeaderRequest* request,
                          etcdserverpb::MoveLeaderResponse*) {
    if (!context_.backend.is_leader()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader");
    }
    auto target = context_.backend.member(request->targetid());
    if (!target || target->is_learner()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kErrBadLeaderTransferee);
    }
    if (context_.host) {
      if (auto r = context_.host->transfer_leadership(request->targetid(), std::chrono::seconds(5));
          !r) {
        // etcd's error has no gRPC code of its own: Unknown.
        return grpc::Status(grpc::StatusCode::UNKNOWN,
                            "etcdserver: request timed out, leader transfer took too long");
      }
    }
    return grpc::Status::OK;
  }

 private:
  ServiceContext& context_;
};

}  // namespace

void add_maintenance_service(ServiceContext& context, rpc::RpcServer& server) {
  auto service = std::make_shared<MaintenanceService>(context);
  const std::string at = "/etcdserverpb.Maintenance/";
  add_blocking(server, at + "Status", service, &MaintenanceService::Status);
  add_blocking(server, at + "Alarm", service, &MaintenanceService::Alarm);
  add_blocking(server, at + "Defragment", service, &MaintenanceService::Defragment);
  add_blocking(server, at + "Hash", service, &MaintenanceService::Hash);
  add_blocking(server, at + "HashKV", service, &MaintenanceService::HashKV);
  add_blocking(server, at + "MoveLeader", service, &MaintenanceService::MoveLeader);
  server.add_server_stream<etcdserverpb::SnapshotRequest, etcdserverpb::SnapshotResponse>(
      at + "Snapshot",
      [service](const etcdserverpb::SnapshotRequest& request,
                rpc::Writer<etcdserverpb::SnapshotResponse>& writer,
                const rpc::CallInfo&) { return service->Snapshot(request, &writer); });
}

}  // namespace mgmt::store::server
