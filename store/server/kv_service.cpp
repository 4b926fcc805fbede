// kv_service.cpp: etcd's KV service (Range, Put, DeleteRange, Txn, Compact); see services.h.
#include "store/server/etcd_errors.h"
#include "store/server/pb_convert.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

using KvBase = etcdserverpb::KV::WithCallbackMethod_Range<etcdserverpb::KV::WithCallbackMethod_Put<
    etcdserverpb::KV::WithCallbackMethod_DeleteRange<
        etcdserverpb::KV::WithCallbackMethod_Txn<etcdserverpb::KV::Service>>>>;

class KvService final : public KvBase {
 public:
  explicit KvService(ServiceContext& context) : context_(context) {}

  // Reads use gRPC's callback API too: a linearizable read is answered by the thread that
  // learns its read point (the Raft host's, or a peer's), a serializable one at once.
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* call,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override {
    auto* reactor = call->DefaultReactor();
    context_.backend.range_async(
        from_pb(*request), [this, reactor, response](mgmt::Result<mvcc::RangeResponse> r) {
          if (!r) return reactor->Finish(to_status(r.error()));
          context_.fill(response->mutable_header(), r->revision);
          to_pb(*r, response);
          reactor->Finish(grpc::Status::OK);
        });
    return reactor;
  }

  // Writes: the handler proposes and returns; the apply answers the
  // call from the Raft thread. No server thread waits for Raft (with the synchronous API, a
  // thread per request in flight, made and unmade by gRPC as the load changes).
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* call,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    return propose<mvcc::PutResponse>(call, *request, response, &Backend::put_async);
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* call,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override {
    return propose<mvcc::DeleteRangeResponse>(call, *request, response,
                                              &Backend::delete_range_async);
  }

  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* call,
                                const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override {
    return propose<mvcc::TxnResponse>(call, *request, response, &Backend::txn_async);
  }

  grpc::Status Compact(grpc::ServerContext* call, const etcdserverpb::CompactionRequest* request,
                       etcdserverpb::CompactionResponse* response) override {
    auto result = context_.backend.compact(request->revision());
    if (!result) return to_status(result.error());
    // --physical: answer once this member deleted the old revisions from disk, as etcd.
    while (request->physical()) {
      const auto start = std::chrono::steady_clock::now();
      if (context_.backend.kv().wait_compacted(request->revision(),
                                               std::chrono::milliseconds(100))) {
        break;
      }
      if (call->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
      if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100)) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "etcdserver: the compaction is recorded but this member stopped "
                            "deleting the old revisions (it is stopping, or its disk refused a "
                            "write); they are deleted when it starts again");
      }
    }
    context_.fill(response->mutable_header(), result->revision);
    return grpc::Status::OK;
  }

 private:
  // Proposes a write (etcd refuses any request over its size limit) and returns at once; the
  // apply answers the call with the result.
  template <typename Result, typename Request, typename Response, typename Async>
  grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* call, const Request& request,
                                    Response* response, Async async) {
    auto* reactor = call->DefaultReactor();
    if (request.ByteSizeLong() > kMaxRequestBytes) {
      reactor->Finish(request_too_large());
      return reactor;
    }
    (context_.backend.*async)(from_pb(request), [this, reactor, response](mgmt::Result<Result> r) {
      if (!r) return reactor->Finish(to_status(r.error()));
      context_.fill(response->mutable_header(), r->revision);
      to_pb(*r, response);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::KV::Service> make_kv_service(ServiceContext& context) {
  return std::make_unique<KvService>(context);
}

}  // namespace mgmt::store::server
