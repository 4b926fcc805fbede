// store_cluster_test.cpp: the replicated store with real `mgmt run` processes on loopback and
// Debian's etcdctl as the client: three members formed by joining with --seeds; a write on any
// member is read on every member; the leader killed with SIGKILL is replaced and comes back
// with everything; a watch on a follower sees every write in order; a lease survives a leader
// change; removing a member shrinks the cluster; every member restarted on its data dir gives
// the same cluster with the same data; a cluster stopped as a whole stops cleanly and, restarted
// one member at a time, waits for a quorum.
#include "test/support/process/child_process.h"
#include "test/support/process/real_etcd.h"
#include "store/client/etcd_client.h"
#include "test/support/store/metrics_page.h"
#include "test/support/history/register_checker.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"
#include "test/support/process/mgmt_cluster.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <set>
#include <mutex>
#include <thread>
#include <memory>
#include <regex>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::Completed;
using mgmt::test::mgmt_binary;
using mgmt::test::run_to_completion;

namespace {

using Member = mgmt::test::MgmtMember;

// These tests drive the store with Debian's etcdctl.
void require_etcdctl() { mgmt::test::require_program("etcdctl", "etcd-client"); }

Completed etcdctl(const std::string& endpoints, const std::string& args) {
  return mgmt::test::cluster_etcdctl(endpoints, args);
}

// Three members (mgmt_cluster.h), and which of them leads.
struct Cluster : mgmt::test::MgmtCluster {
  explicit Cluster(const std::vector<std::string>& extra_flags = {})
      : MgmtCluster(3, extra_flags) {}

  // The member that leads, from `endpoint status` ("IS LEADER" column).
  int leader() {
    for (size_t i = 0; i < members.size(); ++i) {
      auto s = etcdctl(members[i].client, "endpoint status");
      // endpoint, id, version, db size, is leader, is learner, term, index, applied, errors
      if (s.exit_code == 0 && s.output.find(", true, false,") != std::string::npos) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

}  // namespace

TEST_CASE("store cluster: members joined by --seeds replicate every write and survive the "
          "leader's death", "[cluster]") {
  require_etcdctl();
  Cluster c;
  // A write on each member is read on every member.
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(etcdctl(c.members[i].client, "put k" + std::to_string(i) + " v" +
                                             std::to_string(i)).exit_code == 0);
  }
  for (auto& m : c.members) {
    auto got = etcdctl(m.client, "get --prefix k --print-value-only");
    CHECK(got.output == "v0\nv1\nv2\n");
  }

  // A watch on a follower, then the leader dies (SIGKILL).
  int lead = c.leader();
  REQUIRE(lead >= 0);
  const int follower = (lead + 1) % 3;
  ChildProcess watch({"/bin/sh", "-c", "ETCDCTL_API=3 exec etcdctl --endpoints=" +
                                           c.members[follower].client + " watch --rev=1 --prefix w"});
  REQUIRE(etcdctl(c.members[follower].client, "put w1 before").exit_code == 0);
  REQUIRE(watch.wait_for_output("before"));
  auto lease = etcdctl(c.members[lead].client, "lease grant 60");
  std::smatch id;
  REQUIRE(std::regex_search(lease.output, id, std::regex("lease ([0-9a-f]+) granted")));
  REQUIRE(etcdctl(c.members[lead].client, "put --lease=" + id[1].str() + " leased yes")
              .exit_code == 0);
  // A keep-alive sent to a follower is answered by the leader, through it.
  auto kept = etcdctl(c.members[follower].client, "lease keep-alive --once " + id[1].str());
  CHECK(kept.output == "lease " + id[1].str() + " keepalived with TTL(60)\n");

  c.members[lead].kill9();
  std::string survivors;
  for (int i = 0; i < 3; ++i) {
    if (i != lead) survivors += (survivors.empty() ? "" : ",") + c.members[i].client;
  }
  // The two others elect a leader and take writes.
  REQUIRE(Cluster::wait_for([&] { return etcdctl(survivors, "put w2 after").exit_code == 0; }));
  CHECK(watch.wait_for_output("after"));
  // The follower saw two leaders, and says so where etcd's alerts look.
  const std::string& follower_url = c.members[follower].client;
  const std::string page =
      mgmt::test::metrics_page(std::stoi(follower_url.substr(follower_url.rfind(':') + 1)));
  CHECK(mgmt::test::metric_sample(page, "etcd_server_leader_changes_seen_total") >= 2);
  const std::string events = watch.output();
  CHECK(events.find("before") < events.find("after"));  // in order, each once
  CHECK(std::count(events.begin(), events.end(), 'P') == 2);  // two PUT events
  // The lease survived the leader change (the new leader keeps its TTL).
  auto ttl = etcdctl(survivors, "lease timetolive " + id[1].str());
  CHECK(ttl.output.find("remaining") != std::string::npos);
  CHECK(etcdctl(survivors, "get leased --print-value-only").output == "yes\n");

  // The dead member comes back on its data dir and catches up.
  c.members[lead].start("");
  REQUIRE(c.members[lead].ready());
  CHECK(Cluster::wait_for([&] {
    return etcdctl(c.members[lead].client, "get w2 --print-value-only").output == "after\n";
  }));
}

TEST_CASE("store cluster: removing a member shrinks the cluster, and a full restart keeps "
          "everything", "[cluster]") {
  require_etcdctl();
  Cluster c;
  REQUIRE(etcdctl(c.all(), "put keep me").exit_code == 0);

  // Remove the third member through the first.
  auto list = etcdctl(c.members[0].client, "member list");
  std::smatch id;
  REQUIRE(std::regex_search(list.output, id, std::regex("([0-9a-f]+), started, s3,")));
  // As etcd's, the leader removes a voter only once it has been connected to the others for
  // 5 s (else it could be left without a quorum): until then, "unhealthy cluster".
  auto removed = etcdctl(c.members[0].client, "member remove " + id[1].str());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (removed.exit_code != 0 && std::chrono::steady_clock::now() < until) {
    INFO(removed.output);
    REQUIRE(removed.output.find("etcdserver: unhealthy cluster") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polls a condition
    removed = etcdctl(c.members[0].client, "member remove " + id[1].str());
  }
  CHECK(removed.exit_code == 0);
  CHECK(removed.output.find("removed from cluster") != std::string::npos);
  CHECK(Cluster::count_lines(etcdctl(c.members[0].client, "member list").output) == 2);
  c.members[2].kill9();
  CHECK(etcdctl(c.members[0].client + "," + c.members[1].client, "put two left").exit_code == 0);

  // Stop both, start both on their data dirs: same cluster, same data.
  for (int i = 0; i < 2; ++i) {
    c.members[i].process->send_signal(SIGTERM);
    CHECK(c.members[i].process->wait_exit() == 0);
  }
  for (int i = 0; i < 2; ++i) c.members[i].start("");
  for (int i = 0; i < 2; ++i) REQUIRE(c.members[i].ready());
  const std::string both = c.members[0].client + "," + c.members[1].client;
  CHECK(etcdctl(both, "get keep --print-value-only").output == "me\n");
  CHECK(etcdctl(both, "get two --print-value-only").output == "left\n");
  CHECK(Cluster::count_lines(etcdctl(both, "member list").output) == 2);
}

TEST_CASE("store cluster: stopped all at once, every agent exits cleanly, and restarted one at "
          "a time, the first waits for a quorum and then serves everything", "[cluster]") {
  require_etcdctl();
  Cluster c;
  REQUIRE(etcdctl(c.all(), "put keep me").exit_code == 0);
  // As `systemctl stop mgmt` on every host: the last ones stop while their quorum goes away.
  for (auto& m : c.members) m.process->send_signal(SIGTERM);
  const auto stopped = std::chrono::steady_clock::now();
  for (auto& m : c.members) CHECK(m.process->wait_exit() == 0);
  // Measured: all three exit within 1.11-1.12 s (the last ones' status lease revoke waits at
  // most 1 s for the quorum that went away; it waited the client's 5 s, and the last agent took
  // 5.1 s to exit). The bound leaves room for a slow machine.
  CHECK(std::chrono::steady_clock::now() - stopped < std::chrono::seconds(4));

  // One host back: its member alone is no quorum; the agent says so and waits, not exits.
  c.members[0].start("");
  REQUIRE(c.members[0].process->wait_for_output(
      "waiting for the store's cluster to elect a leader (needs a quorum of its members "
      "running)"));
  // Asked meanwhile, its store answers that it has no leader; mgmt says why, and what to do.
  const auto asked =
      run_to_completion({mgmt_binary(), "get", "--seeds=" + c.members[0].client,
                                     "hosts"});
  CHECK(asked.exit_code != 0);
  CHECK(asked.output.find("mgmt get hosts: the store at " + c.members[0].client +
                          " answers but has no leader (etcdserver: no leader): its cluster lost "
                          "its quorum; start its stopped members again, until most of them "
                          "run\n") != std::string::npos);
  c.members[1].start("");
  REQUIRE(c.members[0].ready());
  REQUIRE(c.members[1].ready());
  const std::string two = c.members[0].client + "," + c.members[1].client;
  CHECK(etcdctl(two, "get keep --print-value-only").output == "me\n");
  CHECK(etcdctl(two, "put after restart").exit_code == 0);
  c.members[2].start("");
  REQUIRE(c.members[2].ready());
  CHECK(etcdctl(c.members[2].client, "get after --print-value-only").output == "restart\n");
}

TEST_CASE("store cluster: concurrent clients' histories are linearizable while members are "
          "killed, paused and restarted", "[cluster]") {
  require_etcdctl();
  using mgmt::test::history::RegisterOp;
  Cluster c;
  const std::vector<std::string> keys = {"h/a", "h/b", "h/c"};
  std::vector<std::string> endpoints;
  for (const auto& m : c.members) endpoints.push_back(m.client);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto now = [&] { return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0).count(); };

  std::mutex mutex;  // guards history, done_ops, stop
  std::condition_variable progress;
  std::map<std::string, std::vector<RegisterOp>> history;
  int done_ops = 0;
  bool stop = false;
  constexpr int kClients = 3;
  constexpr int kOpsPerClient = 120;

  auto client_main = [&](int id) {
    auto client = mgmt::store::client::EtcdClient::open(endpoints, std::chrono::seconds(2));
    REQUIRE(client);
    uint64_t state = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(id + 1);
    auto rnd = [&state](uint64_t n) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      return state % n;
    };
    std::map<std::string, std::optional<std::string>> last_seen;
    for (int n = 0; n < kOpsPerClient; ++n) {
      const std::string key = keys[rnd(keys.size())];
      RegisterOp op;
      op.client = id;
      op.call = now();
      const uint64_t dice = rnd(10);
      const std::string value = "c" + std::to_string(id) + "-" + std::to_string(n);
      bool keep = true;
      if (dice < 4) {
        op.kind = RegisterOp::Kind::get;
        auto got = (*client)->get(key);
        if (got) {
          if (!got->kvs.empty()) op.observed = got->kvs.front().value;
          last_seen[key] = op.observed;
        } else {
          keep = false;  // a read without an answer tells nothing
        }
      } else if (dice < 7) {
        op.kind = RegisterOp::Kind::put;
        op.value = value;
        op.unknown = !(*client)->put(key, value);
      } else {
        op.kind = RegisterOp::Kind::cas;
        op.value = value;
        op.expect = last_seen[key];
        mgmt::store::client::Compare cmp;
        cmp.key = key;
        if (op.expect) {
          cmp.target = mgmt::store::client::Compare::Target::value;
          cmp.value = *op.expect;
        } else {
          cmp.target = mgmt::store::client::Compare::Target::version;
          cmp.number = 0;
        }
        auto r = (*client)->txn({cmp}, {mgmt::store::client::Put{key, value, 0}});
        if (r) {
          op.succeeded = *r;
        } else {
          op.unknown = true;
        }
      }
      op.ret = now();
      std::lock_guard lock(mutex);
      if (keep) history[key].push_back(op);
      ++done_ops;
      progress.notify_all();
    }
  };

  // Faults driven by progress (every 25 completed operations), not by the clock: kill -9 a
  // member, bring it back, pause another (SIGSTOP), resume it, and so on.
  auto faults_main = [&] {
    int step = 0;
    int killed = -1, paused = -1;
    for (;;) {
      {
        std::unique_lock lock(mutex);
        const int target = (step + 1) * 25;
        progress.wait(lock, [&] { return stop || done_ops >= target; });
        if (stop) break;
      }
      switch (step % 4) {
        case 0:
          killed = step % 3;
          c.members[killed].kill9();
          break;
        case 1:
          c.members[killed].start("");
          break;
        case 2:
          paused = (step + 1) % 3;
          c.members[paused].process->send_signal(SIGSTOP);
          break;
        case 3:
          c.members[paused].process->send_signal(SIGCONT);
          paused = -1;
          break;
      }
      ++step;
    }
    if (paused >= 0) c.members[paused].process->send_signal(SIGCONT);
  };

  std::thread faults(faults_main);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back(client_main, i);
  for (auto& t : clients) t.join();
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  progress.notify_all();
  faults.join();

  size_t total = 0, unknown = 0;
  for (const auto& key : keys) {
    const auto& ops = history[key];
    total += ops.size();
    for (const auto& op : ops) unknown += op.unknown;
    auto result = mgmt::test::history::check_register(ops);
    INFO(key << ": " << result.explanation);
    if (!result.decided) {
      // Too many unknown outcomes to search every order in time: say so, no verdict.
      WARN(key << ": " << result.explanation);
      continue;
    }
    CHECK(result.linearizable);
  }
  INFO(total << " operations recorded, " << unknown << " with an unknown outcome");
  CHECK(total >= static_cast<size_t>(kClients * kOpsPerClient / 2));
  WARN("history: " << total << " operations on " << keys.size() << " keys, " << unknown
                   << " of unknown outcome; linearizable");

  // Every member that runs ends with the same values.
  for (auto& m : c.members) {
    if (m.process->wait_exit(std::chrono::milliseconds(0))) m.start("");
  }
  std::string reference;
  for (size_t i = 0; i < c.members.size(); ++i) {
    REQUIRE(c.members[i].ready());
    std::string got;
    REQUIRE(Cluster::wait_for([&] {
      auto r = etcdctl(c.members[i].client, "get --prefix h/");
      got = r.output;
      return r.exit_code == 0;
    }));
    if (i == 0) reference = got;
    CHECK(got == reference);
  }

  // The watch stream tells the same history: replayed from revision 1 on every member, each
  // member's events come in strictly increasing revisions (none twice), every acknowledged
  // write is there exactly once, a write of unknown outcome at most once, and the last event
  // of each key is its value now.
  std::map<std::string, int> acknowledged;  // value -> 1; values are unique per operation
  std::set<std::string> maybe;              // values of unknown outcome
  for (const auto& key : keys) {
    for (const auto& op : history[key]) {
      if (op.kind == RegisterOp::Kind::get) continue;
      if (op.unknown) {
        maybe.insert(op.value);
      } else if (op.kind == RegisterOp::Kind::put || op.succeeded) {
        acknowledged[op.value] = 1;
      }
    }
  }
  for (size_t i = 0; i < c.members.size(); ++i) {
    auto client = mgmt::store::client::EtcdClient::open({c.members[i].client});
    REQUIRE(client);
    auto now_read = (*client)->get("h/", mgmt::store::client::GetOptions{true});
    REQUIRE(now_read);
    std::mutex watch_mutex;
    std::condition_variable watch_progress;
    std::vector<mgmt::store::client::WatchEvent> events;
    auto watch = (*client)->watch(
        "h/", true, 1,
        [&](const std::vector<mgmt::store::client::WatchEvent>& batch) {
          std::lock_guard lock(watch_mutex);
          events.insert(events.end(), batch.begin(), batch.end());
          watch_progress.notify_all();
        },
        [&](const mgmt::Error&) { watch_progress.notify_all(); });
    REQUIRE(watch);
    // The newest change under h/ (the store's revision may be of other keys).
    int64_t last_revision = 0;
    for (const auto& kv : now_read->kvs) last_revision = std::max(last_revision, kv.mod_revision);
    {
      std::unique_lock lock(watch_mutex);
      // Bounded: a broken build must not hang the suite.
      REQUIRE(watch_progress.wait_for(lock, std::chrono::seconds(30), [&] {
        return !events.empty() && events.back().kv.mod_revision >= last_revision;
      }));
    }
    watch->reset();
    std::lock_guard lock(watch_mutex);
    INFO("member " << i << ": " << events.size() << " watch events");
    std::map<std::string, int> seen;
    std::map<std::string, std::string> last_value;
    int64_t previous = 0;
    for (const auto& e : events) {
      CHECK(e.kv.mod_revision > previous);
      previous = e.kv.mod_revision;
      if (e.is_delete) continue;
      ++seen[e.kv.value];
      last_value[e.kv.key] = e.kv.value;
    }
    for (const auto& [value, one] : acknowledged) {
      INFO("acknowledged write " << value);
      CHECK(seen[value] == 1);
    }
    for (const auto& [value, count] : seen) {
      INFO("write " << value << " seen " << count << " times");
      CHECK((acknowledged.count(value) || maybe.count(value)));
      CHECK(count == 1);
    }
    for (const auto& kv : now_read->kvs) CHECK(last_value[kv.key] == kv.value);
  }
}

TEST_CASE("store cluster: a member paused for fewer entries than --snapshot-catchup-entries "
          "catches up from the log, one paused for more from a snapshot of a store over 2 MiB",
          "[cluster]") {
  Cluster c({"--snapshot-count", "20", "--snapshot-catchup-entries", "60"});
  const int leader = c.leader();
  REQUIRE(leader >= 0);
  Member& lead = c.members[static_cast<size_t>(leader)];
  Member& slow = c.members[static_cast<size_t>((leader + 1) % 3)];
  auto client = mgmt::store::client::EtcdClient::open({lead.client});
  REQUIRE(client);
  auto put_n = [&](const std::string& prefix, int n) {
    for (int i = 1; i <= n; ++i) REQUIRE((*client)->put(prefix + std::to_string(i), "v"));
  };
  auto caught_up = [&](const std::string& key) {
    return Cluster::wait_for([&] {
      return etcdctl(slow.client, "get " + key + " --consistency=s --print-value-only").output ==
             "v\n";
    });
  };
  put_n("warm", 100);  // past the first compactions
  REQUIRE(caught_up("warm100"));
  // 40 entries behind: still in the leader's log (it keeps 60 after each compaction).
  slow.process->send_signal(SIGSTOP);
  put_n("near", 40);
  slow.process->send_signal(SIGCONT);
  CHECK(caught_up("near40"));
  CHECK(lead.process->output().find("sending a snapshot") == std::string::npos);
  // 200 entries behind: compacted away, so the leader sends a snapshot and it installs it,
  // though the store (3 MB) is larger than a client's message may be (2 MiB).
  slow.process->send_signal(SIGSTOP);
  for (int i = 1; i <= 3; ++i) {
    REQUIRE((*client)->put("big" + std::to_string(i), std::string(1 << 20, 'x')));
  }
  put_n("far", 200);
  slow.process->send_signal(SIGCONT);
  CHECK(caught_up("far200"));
  CHECK(lead.process->wait_for_output("sending a snapshot"));
  CHECK(slow.process->wait_for_output("installing the leader's snapshot"));
  INFO("leader:\n" << lead.process->output() << "\nslow:\n" << slow.process->output());
  CHECK(etcdctl(c.all(), "put after catching up").exit_code == 0);
}

TEST_CASE("store cluster: a NOSPACE alarm raised on one member refuses growing writes on every "
          "member, survives a restart of all, and a disarm through another member lifts it",
          "[cluster][quota]") {
  Cluster c({"--quota-backend-bytes", "1048576"});
  const std::string value(100000, 'x');
  int puts = 0;
  while (puts < 40 && etcdctl(c.members[0].client, "put big " + value).exit_code == 0) ++puts;
  REQUIRE(puts < 40);  // refused past about 1 MiB of history
  CHECK(puts >= 5);
  for (const Member& m : c.members) {
    INFO(m.name);
    CHECK(etcdctl(m.client, "alarm list").output.find("alarm:NOSPACE") != std::string::npos);
    auto refused = etcdctl(m.client, "put small v");
    CHECK(refused.exit_code != 0);
    CHECK(refused.output.find("etcdserver: mvcc: database space exceeded") != std::string::npos);
  }
  // The alarm is the cluster's state: it survives a restart of every member.
  for (Member& m : c.members) {
    m.process->send_signal(SIGTERM);
    CHECK(m.process->wait_exit() == 0);
  }
  for (Member& m : c.members) m.start("");
  for (Member& m : c.members) REQUIRE(m.ready());
  CHECK(etcdctl(c.all(), "alarm list").output.find("alarm:NOSPACE") != std::string::npos);
  // Freed: the history is small again, so no member's own quota check refuses a put; the
  // alarm, applied on every member, still does.
  REQUIRE(etcdctl(c.all(), "del big").exit_code == 0);
  auto json = etcdctl(c.all(), "get big -w json");
  std::smatch rev;
  REQUIRE(std::regex_search(json.output, rev, std::regex("\"revision\":([0-9]+)")));
  REQUIRE(etcdctl(c.all(), "compaction --physical " + rev[1].str()).exit_code == 0);
  for (const Member& m : c.members) {
    INFO(m.name);
    auto refused = etcdctl(m.client, "put small v");
    CHECK(refused.output.find("etcdserver: mvcc: database space exceeded") != std::string::npos);
    CHECK(etcdctl(m.client, "get big").exit_code == 0);  // reads go on
  }
  auto disarmed = etcdctl(c.members[2].client, "alarm disarm");
  CHECK(disarmed.output.find("alarm:NOSPACE") != std::string::npos);
  CHECK(etcdctl(c.members[0].client, "alarm list").output.empty());
  CHECK(etcdctl(c.members[0].client, "put small v").exit_code == 0);
  CHECK(etcdctl(c.members[1].client, "get small --print-value-only").output == "v\n");
}
