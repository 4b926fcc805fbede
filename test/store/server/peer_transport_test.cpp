// peer_transport_test.cpp: the Raft peer transport (store/server/peer_transport.h) over real
// gRPC on loopback, both ends in this process: messages reach the peer in the order they were
// sent, on its stream; a member that the receiver knows as removed hears so from its first
// refused message (its agent stops on that); a peer that does not listen, or belongs to another
// cluster, is reported unreachable to the core, and messages flow once it listens; a snapshot
// arrives whole in a call of its own, encoded aside while the stream goes on.
#include "store/server/client_listener.h"
#include "store/server/peer_transport.h"
#include "test/support/process/free_port.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

using mgmt::store::raft::Message;
using mgmt::store::raft::MessageType;
using mgmt::store::server::PeerService;
using mgmt::store::server::PeerTransport;
using namespace std::chrono_literals;

constexpr uint64_t kCluster = 0xc1;

Message heartbeat(uint64_t commit) {
  Message m;
  m.type = MessageType::heartbeat;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.commit = commit;
  return m;
}

// A snapshot from member 1 to member 2 (voters 1 and 2) at `index`, term 3.
Message snapshot_message(uint64_t index, std::string data) {
  Message m;
  m.type = MessageType::snapshot;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.snapshot = mgmt::store::raft::Snapshot{};
  m.snapshot->meta.index = index;
  m.snapshot->meta.term = 3;
  m.snapshot->meta.conf_state.voters = {1, 2};
  m.snapshot->data = std::move(data);
  return m;
}

// Events from either end, waited for with a deadline.
struct Events {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Message> received;  // by the peer
  std::vector<Message> reports;   // to the sender's core
  bool removed = false;

  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return pred(); });
  }
  void add(std::vector<Message>& to, Message m) {
    {
      std::lock_guard lock(mutex);
      to.push_back(std::move(m));
    }
    changed.notify_all();
  }
};

// Member 2: the peer service on a loopback port, served as a member serves it (our listener and
// RPC server).
struct Receiver {
  std::unique_ptr<PeerService> service;
  std::unique_ptr<mgmt::rpc::RpcServer> server;
  std::unique_ptr<mgmt::store::server::ClientListener> listener;

  Receiver(Events& events, int port, uint64_t cluster, bool sender_removed) {
    service = std::make_unique<PeerService>(
        cluster, [&events](Message m) { events.add(events.received, std::move(m)); },
        [sender_removed](uint64_t) { return sender_removed; });
    mgmt::rpc::RpcServer::Options options;
    options.max_receive_bytes = std::numeric_limits<uint32_t>::max();
    server = std::make_unique<mgmt::rpc::RpcServer>(options);
    service->add_to(*server);
    server->start();
    auto opened = mgmt::store::server::ClientListener::open({"127.0.0.1:" + std::to_string(port)});
    REQUIRE(opened);
    listener = std::move(*opened);
    listener->start([this](int fd) { server->serve(fd); },
                    [](const std::string&, const std::string&, const std::string&) {
                      return mgmt::store::server::HttpReply{404, "text/plain", "", {}, nullptr};
                    });
  }
  ~Receiver() {
    listener->stop();
    server->stop();
  }
};

// Member 1's transport, which knows member 2 at `port`.
std::unique_ptr<PeerTransport> sender(Events& events, int port) {
  PeerTransport::Hooks hooks;
  hooks.peer_url = [port](uint64_t) { return "http://127.0.0.1:" + std::to_string(port); };
  hooks.report = [&events](const Message& m) { events.add(events.reports, m); };
  hooks.removed = [&events] {
    {
      std::lock_guard lock(events.mutex);
      events.removed = true;
    }
    events.changed.notify_all();
  };
  return std::make_unique<PeerTransport>(kCluster, std::move(hooks));
}

}  // namespace

TEST_CASE("peer transport: messages reach the peer in the order they were sent",
          "[peer_transport]") {
  Events events;
  const int port = mgmt::test::free_port();
  Receiver receiver(events, port, kCluster, false);
  auto transport = sender(events, port);
  constexpr uint64_t kCount = 2000;
  for (uint64_t i = 1; i <= kCount; ++i) transport->send(heartbeat(i));
  REQUIRE(events.wait([&] { return events.received.size() >= kCount; }));
  transport->stop();
  std::lock_guard lock(events.mutex);
  REQUIRE(events.received.size() == kCount);
  for (uint64_t i = 0; i < kCount; ++i) {
    CHECK(events.received[i].commit == i + 1);
    CHECK(events.received[i].type == MessageType::heartbeat);
    CHECK(events.received[i].from == 1);
  }
  CHECK(events.reports.empty());
  CHECK_FALSE(events.removed);
}

TEST_CASE("peer transport: a removed member hears it from its first refused message",
          "[peer_transport]") {
  Events events;
  const int port = mgmt::test::free_port();
  Receiver receiver(events, port, kCluster, /*sender_removed=*/true);
  auto transport = sender(events, port);
  transport->send(heartbeat(1));
  // No later message is needed: the receiver's notice on the stream says it.
  CHECK(events.wait([&] { return events.removed; }));
  transport->stop();
  std::lock_guard lock(events.mutex);
  CHECK(events.received.empty());
}

TEST_CASE("peer transport: a peer that does not listen or serves another cluster is reported "
          "unreachable and messages flow once the right one listens",
          "[peer_transport]") {
  Events events;
  const int port = mgmt::test::free_port();
  auto transport = sender(events, port);
  auto unreachable_reports = [&] {
    size_t n = 0;
    for (const auto& m : events.reports) n += m.type == MessageType::unreachable && m.from == 2;
    return n;
  };

  transport->send(heartbeat(1));
  REQUIRE(events.wait([&] { return unreachable_reports() >= 1; }));

  {
    Receiver stranger(events, port, kCluster + 1, false);
    const size_t before = unreachable_reports();
    // The transport waits 100 ms after a failure before it dials again: send until refused.
    for (int i = 0; i < 100; ++i) {
      transport->send(heartbeat(2));
      if (events.wait([&] { return unreachable_reports() > before; }, 100ms)) break;
    }
    CHECK(unreachable_reports() > before);
    std::lock_guard lock(events.mutex);
    CHECK(events.received.empty());
  }

  Receiver receiver(events, port, kCluster, false);
  for (int i = 0; i < 100; ++i) {
    transport->send(heartbeat(3));
    if (events.wait([&] { return !events.received.empty(); }, 100ms)) break;
  }
  transport->stop();
  std::lock_guard lock(events.mutex);
  REQUIRE_FALSE(events.received.empty());
  CHECK(events.received.front().commit == 3);
  CHECK_FALSE(events.removed);
}

TEST_CASE("peer transport: a peer that was away for a while is dialled again within about a "
          "second of coming back",
          "[peer_transport]") {
  // gRPC's own reconnect backoff grows to two minutes; away for 10 s, it would wait about 6 s
  // more before dialling. The transport caps it at 1 s. The loop sends as the Raft ticker does.
  Events events;
  const int port = mgmt::test::free_port();
  auto transport = sender(events, port);
  const auto away_until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < away_until) {
    transport->send(heartbeat(1));
    events.wait([] { return false; }, 100ms);
  }
  {
    std::lock_guard lock(events.mutex);
    REQUIRE_FALSE(events.reports.empty());
  }
  Receiver receiver(events, port, kCluster, false);
  const auto back = std::chrono::steady_clock::now();
  bool reached = false;
  while (!reached && std::chrono::steady_clock::now() - back < 20s) {
    transport->send(heartbeat(2));
    reached = events.wait([&] { return !events.received.empty(); }, 100ms);
  }
  const auto took = std::chrono::steady_clock::now() - back;
  transport->stop();
  REQUIRE(reached);
  CHECK(took < 3s);
}

TEST_CASE("peer transport: a snapshot arrives whole while the messages after it go on",
          "[peer_transport]") {
  Events events;
  const int port = mgmt::test::free_port();
  Receiver receiver(events, port, kCluster, false);
  auto transport = sender(events, port);
  std::string data(24 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<char>(i / 4096);
  Message snap = snapshot_message(77, std::move(data));
  transport->send(snap);
  transport->dispatch();
  for (uint64_t i = 1; i <= 10; ++i) transport->send(heartbeat(i));
  transport->dispatch();
  REQUIRE(events.wait([&] { return events.received.size() >= 11; }));
  std::lock_guard lock(events.mutex);
  int snapshots = 0;
  uint64_t next_commit = 1;
  for (const Message& m : events.received) {
    if (m.type == MessageType::snapshot) {
      ++snapshots;
      REQUIRE(m.snapshot);
      CHECK(m.snapshot->meta.index == 77);
      CHECK(m.snapshot->meta.conf_state.voters == std::set<uint64_t>{1, 2});
      CHECK(m.snapshot->data == snap.snapshot->data);
    } else {
      CHECK(m.commit == next_commit++);  // the stream keeps its order around the snapshot
    }
  }
  CHECK(snapshots == 1);
  CHECK(events.reports.empty());
}

TEST_CASE("peer transport: stopping while a snapshot is being encoded ends promptly",
          "[peer_transport]") {
  Events events;
  const int port = mgmt::test::free_port();
  Receiver receiver(events, port, kCluster, false);
  auto transport = sender(events, port);
  transport->send(heartbeat(1));
  REQUIRE(events.wait([&] { return events.received.size() == 1; }));  // connected
  Message snap = snapshot_message(5, std::string(64 << 20, 's'));
  transport->send(snap);
  transport->dispatch();
  const auto started = std::chrono::steady_clock::now();
  transport->stop();  // joins the encoder, which posts nothing once stopped
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  transport.reset();
}
