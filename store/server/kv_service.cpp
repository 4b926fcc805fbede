// kv_service.cpp: etcd's KV service (Range, Put, DeleteRange, Txn, Compact); see services.h.
#include "store/server/etcd_errors.h"
#include "store/server/pb_convert.h"
#include "store/server/services.h"
#include "store/mvcc/validate.h"

namespace mgmt::store::server {
namespace {

// Proposes a write (etcd refuses any request over its size limit) and returns at once; the
// apply answers the call with the result, from the Raft thread. No thread waits for Raft.
mgmt::Result<void> validate(const mvcc::PutRequest& r) { return mvcc::validate_put(r); }
mgmt::Result<void> validate(const mvcc::DeleteRangeRequest& r) {
  return mvcc::validate_delete_range(r);
}
mgmt::Result<void> validate(const mvcc::TxnRequest& r) { return mvcc::validate_txn(r); }

template <typename Result, typename Response, typename Request, typename Async>
void propose(ServiceContext& context, const Request& request, rpc::Responder responder,
             Async async) {
  auto converted = from_pb(request);
  if (request.ByteSizeLong() > kMaxRequestBytes) {
    // As etcd: a request's fields are checked first (its gRPC layer), its size only when it
    // is proposed.
    if (auto v = validate(converted); !v) return responder.fail(to_status(v.error()));
    return responder.fail(request_too_large());
  }
  (context.backend.*async)(std::move(converted), [&context, responder](mgmt::Result<Result> r) {
    if (!r) return responder.fail(to_status(r.error()));
    Response response;
    context.fill(response.mutable_header(), r->revision);
    to_pb(*r, &response);
    responder.finish(response);
  });
}

grpc::Status compact(ServiceContext& context, const etcdserverpb::CompactionRequest& request,
                     etcdserverpb::CompactionResponse& response, const rpc::CallInfo& call) {
  auto result = context.backend.compact(request.revision());
  if (!result) return to_status(result.error());
  // --physical: answer once this member deleted the old revisions from disk, as etcd.
  while (request.physical()) {
    const auto start = std::chrono::steady_clock::now();
    if (context.backend.kv().wait_compacted(request.revision(), std::chrono::milliseconds(100))) {
      break;
    }
    if (call.cancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
    if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "etcdserver: the compaction is recorded but this member stopped "
                          "deleting the old revisions (it is stopping, or its disk refused a "
                          "write); they are deleted when it starts again");
    }
  }
  context.fill(response.mutable_header(), result->revision);
  return grpc::Status::OK;
}

}  // namespace

void add_kv_service(ServiceContext& context, rpc::RpcServer& server) {
  using namespace etcdserverpb;
  const std::string at = "/etcdserverpb.KV/";
  // A linearizable read is answered by the thread that learns its read point (the Raft
  // host's, or a peer's), a serializable one at once.
  server.add_unary<RangeRequest>(
      at + "Range", [&context](const RangeRequest& request, rpc::Responder responder) {
        context.backend.range_async(from_pb(request),
                                    [&context, responder](mgmt::Result<mvcc::RangeResponse> r) {
                                      if (!r) return responder.fail(to_status(r.error()));
                                      RangeResponse response;
                                      context.fill(response.mutable_header(), r->revision);
                                      to_pb(*r, &response);
                                      responder.finish(response);
                                    });
      });
  server.add_unary<PutRequest>(
      at + "Put", [&context](const PutRequest& request, rpc::Responder responder) {
        propose<mvcc::PutResponse, PutResponse>(context, request, responder, &Backend::put_async);
      });
  server.add_unary<DeleteRangeRequest>(
      at + "DeleteRange", [&context](const DeleteRangeRequest& request, rpc::Responder responder) {
        propose<mvcc::DeleteRangeResponse, DeleteRangeResponse>(context, request, responder,
                                                                &Backend::delete_range_async);
      });
  server.add_unary<TxnRequest>(
      at + "Txn", [&context](const TxnRequest& request, rpc::Responder responder) {
        propose<mvcc::TxnResponse, TxnResponse>(context, request, responder, &Backend::txn_async);
      });
  server.add_blocking<CompactionRequest, CompactionResponse>(
      at + "Compact",
      [&context](const CompactionRequest& request, CompactionResponse& response,
                 const rpc::CallInfo& call) { return compact(context, request, response, call); });
}

}  // namespace mgmt::store::server
