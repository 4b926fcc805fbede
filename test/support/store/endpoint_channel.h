// endpoint_channel.h: a client URL as a store prints it ("http://127.0.0.1:2379", ours or
// etcd's) turned into what gRPC dials ("127.0.0.1:2379"), and an insecure channel to it, for
// the tests that talk to a store through raw stubs. Header-only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace mgmt::test {

// "http://HOST:PORT" -> "HOST:PORT"; anything else unchanged.
inline std::string grpc_target(const std::string& url) {
  return url.rfind("http://", 0) == 0 ? url.substr(7) : url;
}

inline std::shared_ptr<grpc::Channel> endpoint_channel(const std::string& url) {
  return grpc::CreateChannel(grpc_target(url), grpc::InsecureChannelCredentials());
}

}  // namespace mgmt::test
