// grpc_lifetime.h: keeps gRPC's callback machinery alive for the rest of the process.
// gRPC's callback API runs on a completion queue shared by every channel that uses it (with
// threads of its own), made when the first such channel needs it and shut down when the last
// one goes. Debian's gRPC 1.51 can abort while shutting it down (grpc_cq_internal_unref:
// "prior > 0") if its threads are still finishing callbacks: peer_transport_test did, about
// 1 run in 10, once the member's own gRPC C++ server (which had kept that queue alive) was
// replaced by ours (store/rpc). So whoever uses the callback API for the life of a member calls
// this once: one channel that has used the callback API is kept until the process exits, and
// the shared queue with it.
#pragma once

#include <grpc/grpc.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <chrono>

namespace mgmt::store::server {

inline void keep_grpc_initialised() {
  static const bool kept = [] {
    grpc_init();
    // Never freed, on purpose: they live as long as the process. The call goes nowhere (port 1
    // refuses at once) and its only effect is to take the callback queue for this channel.
    auto* channel = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    auto* stub = new grpc::GenericStub(*channel);
    auto* context = new grpc::ClientContext();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1));
    grpc::Slice empty("");
    auto* request = new grpc::ByteBuffer(&empty, 1);
    auto* response = new grpc::ByteBuffer();
    stub->UnaryCall(context, "/mgmt.KeepAlive/Nothing", grpc::StubOptions(), request, response,
                    [](grpc::Status) {});
    return true;
  }();
  (void)kept;
}

}  // namespace mgmt::store::server
