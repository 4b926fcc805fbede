// differential.h: what the differential compat tests (kv_random_compat_test,
// membership_compat_test) share: one store's stubs, each call's answer as one line of text (the
// response, or the gRPC status code and message), with the fields that name the answering
// member cleared, so that etcd's answer and ours compare as strings. Header-only.
#pragma once

#include "test/support/store/endpoint_channel.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

namespace mgmt::test {

// Clears the fields that name the member answering (every header's, nested ones included).
inline void clear_member_fields(google::protobuf::Message& m) {
  const auto* descriptor = m.GetDescriptor();
  const auto* reflection = m.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->name() == "member_id" || field->name() == "cluster_id" ||
        field->name() == "raft_term") {
      reflection->ClearField(&m, field);
      continue;
    }
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(m, field); ++j) {
        clear_member_fields(*reflection->MutableRepeatedMessage(&m, field, j));
      }
    } else if (reflection->HasField(m, field)) {
      clear_member_fields(*reflection->MutableMessage(&m, field));
    }
  }
}

// The message in one line, without the fields that name the member.
inline std::string text_of(google::protobuf::Message& m) {
  clear_member_fields(m);
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintToString(m, &out);
  return out;
}

// One member of a store, through its stubs. call() answers in one line of text: `format` turns
// a successful response into it (evening out what differs between two correct answers).
class StoreStubs {
 public:
  explicit StoreStubs(const std::string& endpoint) {
    auto channel = endpoint_channel(endpoint);
    REQUIRE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel);
    cluster_ = etcdserverpb::Cluster::NewStub(channel);
  }

  template <typename Stub, typename Request, typename Response, typename Format>
  std::string call(Stub& stub,
                   grpc::Status (Stub::element_type::*method)(grpc::ClientContext*,
                                                               const Request&, Response*),
                   const Request& request, Format&& format) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Response response;
    const grpc::Status status = ((*stub).*method)(&context, request, &response);
    if (!status.ok()) {
      return "error " + std::to_string(status.error_code()) + ": " + status.error_message();
    }
    if constexpr (std::is_same_v<Response, etcdserverpb::RangeResponse> ||
                  std::is_same_v<Response, etcdserverpb::PutResponse> ||
                  std::is_same_v<Response, etcdserverpb::DeleteRangeResponse> ||
                  std::is_same_v<Response, etcdserverpb::TxnResponse>) {
      revision = response.header().revision();
    }
    return format(response);
  }

  // Who this member thinks leads (0: nobody, or no answer).
  uint64_t leader() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    etcdserverpb::StatusResponse status;
    if (!maintenance_->Status(&context, etcdserverpb::StatusRequest(), &status).ok()) return 0;
    return status.leader();
  }

  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
  int64_t revision = 1;  // the header's revision of the last KV answer
};

}  // namespace mgmt::test
