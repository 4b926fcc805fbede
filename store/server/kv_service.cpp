// kv_service.cpp: etcd's KV service (Range, Put, DeleteRange, Txn, Compact); see services.h.
#include "store/server/etcd_errors.h"
#include "store/server/pb_convert.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

class KvService final : public etcdserverpb::KV::Service {
 public:
  explicit KvService(ServiceContext& context) : context_(context) {}

  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override {
    auto result = context_.backend.range(from_pb(*request));
    if (!result) return to_status(result.error());
    context_.fill(response->mutable_header(), result->revision);
    to_pb(*result, response);
    return grpc::Status::OK;
  }

  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest* request,
                   etcdserverpb::PutResponse* response) override {
    if (request->ByteSizeLong() > kMaxRequestBytes) return request_too_large();
    auto result = context_.backend.put(from_pb(*request));
    if (!result) return to_status(result.error());
    context_.fill(response->mutable_header(), result->revision);
    to_pb(*result, response);
    return grpc::Status::OK;
  }

  grpc::Status DeleteRange(grpc::ServerContext*, const etcdserverpb::DeleteRangeRequest* request,
                           etcdserverpb::DeleteRangeResponse* response) override {
    auto result = context_.backend.delete_range(from_pb(*request));
    if (!result) return to_status(result.error());
    context_.fill(response->mutable_header(), result->revision);
    to_pb(*result, response);
    return grpc::Status::OK;
  }

  grpc::Status Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest* request,
                   etcdserverpb::TxnResponse* response) override {
    if (request->ByteSizeLong() > kMaxRequestBytes) return request_too_large();
    auto result = context_.backend.txn(from_pb(*request));
    if (!result) return to_status(result.error());
    context_.fill(response->mutable_header(), result->revision);
    to_pb(*result, response);
    return grpc::Status::OK;
  }

  grpc::Status Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest* request,
                       etcdserverpb::CompactionResponse* response) override {
    auto result = context_.backend.compact(request->revision());
    if (!result) return to_status(result.error());
    context_.fill(response->mutable_header(), result->revision);
    return grpc::Status::OK;
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::KV::Service> make_kv_service(ServiceContext& context) {
  return std::make_unique<KvService>(context);
}

}  // namespace mgmt::store::server
