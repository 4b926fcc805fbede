// watch_fragment_compat_test.cpp: the same raw gRPC story against Debian's etcd 3.4 and our
// store, transcripts compared: a delete of five 500 KB keys, watched with prev_kv (a 2.5 MB
// response), comes to a watcher created with `fragment` in etcd's parts (what clientv3's
// WithFragment joins), and whole to one that did not ask. The Go client hides the parts, so
// this test reads the wire.
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/store/endpoint_channel.h"
#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int kKeys = 5;
constexpr std::size_t kValueBytes = 500 * 1000;

std::vector<std::string> story(const std::string& endpoint) {
  std::vector<std::string> out;
  auto channel = mgmt::test::endpoint_channel(endpoint);
  REQUIRE(channel->WaitForConnected(std::chrono::system_clock::now() + 10s));
  auto kv = etcdserverpb::KV::NewStub(channel);
  for (int i = 0; i < kKeys; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::PutRequest put;
    put.set_key("big/" + std::to_string(i));
    put.set_value(std::string(kValueBytes, static_cast<char>('a' + i)));
    etcdserverpb::PutResponse answer;
    REQUIRE(kv->Put(&context, put, &answer).ok());
  }

  auto watch = etcdserverpb::Watch::NewStub(channel);
  struct Watcher {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest,
                                             etcdserverpb::WatchResponse>> stream;
  };
  Watcher watchers[2];
  for (int f = 0; f < 2; ++f) {
    watchers[f].context.set_deadline(std::chrono::system_clock::now() + 30s);
    watchers[f].stream = watch->Watch(&watchers[f].context);
    etcdserverpb::WatchRequest create;
    create.mutable_create_request()->set_key("big/");
    create.mutable_create_request()->set_range_end("big0");
    create.mutable_create_request()->set_prev_kv(true);
    create.mutable_create_request()->set_fragment(f == 1);
    REQUIRE(watchers[f].stream->Write(create));
    etcdserverpb::WatchResponse created;
    REQUIRE(watchers[f].stream->Read(&created));
    out.push_back("created " + std::to_string(created.created()));
  }

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  etcdserverpb::DeleteRangeRequest del;
  del.set_key("big/");
  del.set_range_end("big0");
  etcdserverpb::DeleteRangeResponse deleted;
  REQUIRE(kv->DeleteRange(&context, del, &deleted).ok());
  out.push_back("deleted " + std::to_string(deleted.deleted()));

  for (int f = 0; f < 2; ++f) {
    const std::string who = f == 1 ? "fragment watcher: " : "whole watcher: ";
    int events = 0;
    while (events < kKeys) {
      etcdserverpb::WatchResponse r;
      REQUIRE(watchers[f].stream->Read(&r));
      std::string keys;
      for (const auto& e : r.events()) {
        keys += " " + e.kv().key() + (e.prev_kv().value().size() == kValueBytes ? "+prev" : "");
      }
      out.push_back(who + std::to_string(r.events_size()) + " events" + keys + ", fragment " +
                    std::to_string(r.fragment()) + ", revision " +
                    std::to_string(r.header().revision() == deleted.header().revision()));
      events += r.events_size();
      if (r.events_size() == 0) break;
    }
    watchers[f].context.TryCancel();
  }
  return out;
}

}  // namespace

TEST_CASE("compat: a large watch response comes in etcd's fragments to a watcher that asked",
          "[compat][watch]") {
  mgmt::test::require_program("etcd", "etcd-server");
  mgmt::test::RealEtcd etcd;
  REQUIRE(etcd.ready());
  mgmt::test::OurStore ours;
  const auto expected = story(etcd.endpoint());
  const auto actual = story(ours.endpoint());
  for (const auto& line : expected) UNSCOPED_INFO("etcd: " << line);
  // etcd sent the fragment watcher parts (else this story would test nothing).
  CHECK(std::any_of(expected.begin(), expected.end(), [](const std::string& line) {
    return line.find("fragment 1") != std::string::npos;
  }));
  CHECK(actual == expected);
}
