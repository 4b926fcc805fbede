// membership_compat_test.cpp: a differential test of the Cluster and Maintenance services. The
// same seeded stream of random membership changes (MemberAdd of voters and learners with good,
// bad and taken peer URLs; MemberRemove, MemberUpdate and MemberPromote of members the stream
// added, of the running members and of ids no member has), MemberList, Status, Alarm (get,
// raise and clear NOSPACE and CORRUPT for any member), Defragment, and the writes and reads an
// alarm stops, goes to a three-member cluster of Debian's etcd 3.4 and to one of ours, each
// request through the member at the same place in both. Every answer must be the same: the
// response or the gRPC status code and message. To compare, each cluster's member ids, names
// and URLs become the member's place ("<m1>", "<m1 peer>"; "<a0>" for the first member the
// stream added), lists whose order etcd does not fix are sorted, and what names a member's own
// progress (versions, sizes, Raft indexes) is left out. The stream never starts a member it
// adds, and never removes one that runs. MGMT_COMPAT_SEED=N runs that one seed;
// MGMT_COMPAT_VERBOSE=1 prints each request and etcd's answer. A second case starts a member
// the cluster added as a learner, promotes it once it has caught up, and removes it while it
// runs, comparing each answer.
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/store/differential.h"
#include "test/support/store/our_cluster.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using mgmt::test::StoreStubs;
using mgmt::test::text_of;

namespace {

constexpr int kRequestsPerSeed = 250;

// A member named by its place, the same in both clusters: one that runs (by its place in the
// cluster), one the stream added (by the order it was added in), or an id no member has.
struct Who {
  enum Kind { running, added, unknown } kind = unknown;
  std::size_t index = 0;
  std::string text() const {
    if (kind == running) return "<m" + std::to_string(index) + ">";
    if (kind == added) return "<a" + std::to_string(index) + ">";
    return "<unknown>";
  }
};

// Peer URLs the stream draws from: well-formed ones nothing serves on, ill-formed ones (no
// scheme, no port, a path), and ("<peer N>") the URL of the cluster's own member N.
const char* const kPeerUrls[] = {"http://127.0.0.1:1", "http://127.0.0.1:2", "http://[::1]:3",
                                 "https://127.0.0.1:4", "127.0.0.1:5", "http://127.0.0.1",
                                 "http://127.0.0.1:6/path", "<peer 0>", "<peer 2>"};

// The response type of a stub's method (for decltype only).
template <typename Stub, typename Request, typename Response>
Response* response_of(grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*));

// One cluster as the test sees it: its members' stubs, and what makes its answers comparable
// with the other cluster's.
class Side {
 public:
  explicit Side(const std::vector<std::string>& endpoints) {
    for (const auto& e : endpoints) members_.push_back(std::make_unique<StoreStubs>(e));
    for (std::size_t i = 0; i < members_.size(); ++i) {
      etcdserverpb::StatusResponse status;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      REQUIRE(members_[i]->maintenance_->Status(&context, {}, &status).ok());
      running_.push_back(status.header().member_id());
      names_[status.header().member_id()] = "<m" + std::to_string(i) + ">";
    }
    // Every member has published its name (etcd counts a member as started from then on).
    etcdserverpb::MemberListResponse list;
    const auto until = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      REQUIRE(members_[0]->cluster_->MemberList(&context, {}, &list).ok());
      REQUIRE(list.members_size() == static_cast<int>(members_.size()));
      if (std::all_of(list.members().begin(), list.members().end(),
                      [](const auto& m) { return !m.name().empty(); })) {
        break;
      }
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(10ms);  // polls a condition: each member has published
    }
    for (const auto& m : list.members()) {
      const std::string place = names_.at(m.id());
      REQUIRE(m.peerurls_size() == 1);
      peer_urls_[place] = m.peerurls(0);
      strings_["\"" + m.peerurls(0) + "\""] = "\"" + place + " peer\"";
      for (const auto& url : m.clienturls()) {
        strings_["\"" + url + "\""] = "\"" + place + " client\"";
      }
      strings_["name: \"" + m.name() + "\""] = "name: \"" + place + "\"";
    }
  }

  // Waits until the cluster takes a member (an etcd member refuses to add one until it has
  // been connected to every voter for 5 s), with a learner added and removed again.
  void wait_ready_for_changes() {
    const auto until = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      etcdserverpb::MemberAddRequest add;
      add.add_peerurls("http://127.0.0.1:9");
      add.set_islearner(true);
      etcdserverpb::MemberAddResponse added;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      const grpc::Status status = members_[0]->cluster_->MemberAdd(&context, add, &added);
      if (status.ok()) {
        etcdserverpb::MemberRemoveRequest remove;
        remove.set_id(added.member().id());
        etcdserverpb::MemberRemoveResponse removed;
        grpc::ClientContext remove_context;
        remove_context.set_deadline(std::chrono::system_clock::now() + 10s);
        const grpc::Status r = members_[0]->cluster_->MemberRemove(&remove_context, remove,
                                                                   &removed);
        INFO(r.error_message());
        REQUIRE(r.ok());
        wait_members(removed.members());
        return;
      }
      INFO(status.error_message());
      REQUIRE(status.error_message() == "etcdserver: unhealthy cluster");
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(100ms);  // polls a condition: the member takes the change
    }
  }

  // Makes member 0 the leader (each cluster elected its own), so that answers naming the
  // leader compare.
  void lead_from_member0() {
    const uint64_t leader = members_[0]->leader();
    if (leader != running_[0]) {
      std::size_t at = 0;
      while (at < running_.size() && running_[at] != leader) ++at;
      REQUIRE(at < running_.size());
      etcdserverpb::MoveLeaderRequest move;
      move.set_targetid(running_[0]);
      etcdserverpb::MoveLeaderResponse moved;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      const grpc::Status status = members_[at]->maintenance_->MoveLeader(&context, move, &moved);
      INFO(status.error_message());
      REQUIRE(status.ok());
    }
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (auto& m : members_) {
      while (m->leader() != running_[0]) {
        REQUIRE(std::chrono::steady_clock::now() < until);
        std::this_thread::sleep_for(10ms);  // polls a condition: the member names the leader
      }
    }
  }

  // Waits until every member lists the alarms member `via` lists (Status answers from what a
  // member applied: a member applies an alarm it did not propose a moment later).
  void wait_alarms(std::size_t via) {
    auto errors_of = [](StoreStubs& m) {
      etcdserverpb::StatusResponse status;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      std::multiset<std::string> errors;
      if (!m.maintenance_->Status(&context, {}, &status).ok()) errors.insert("(no answer)");
      for (const auto& e : status.errors()) errors.insert(e);
      return errors;
    };
    const auto want = errors_of(*members_.at(via));
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (auto& m : members_) {
      while (errors_of(*m) != want) {
        REQUIRE(std::chrono::steady_clock::now() < until);
        std::this_thread::sleep_for(10ms);  // polls a condition: the member applied the alarm
      }
    }
  }

  StoreStubs& member(std::size_t i) { return *members_.at(i); }
  std::size_t size() const { return members_.size(); }

  // Sends `request` through member `via` and answers in one line; after a membership change
  // that took, waits until every member lists it (and names a member MemberAdd added).
  template <typename Stub, typename Method, typename Request>
  std::string ask(std::size_t via, Stub stub, Method method, const Request& request) {
    StoreStubs& m = member(via);
    using Response = std::remove_pointer_t<decltype(response_of(method))>;
    Response kept;
    std::string answer = m.call(m.*stub, method, request, [&](auto& response) {
      kept = response;
      return format(response);
    });
    if constexpr (requires { kept.members(); }) {
      if (answer.rfind("error", 0) != 0) {
        if constexpr (std::is_same_v<Response, etcdserverpb::MemberAddResponse>) {
          record_added(kept.member().id());
          last_added = kept;
          Response named = kept;
          answer = format(named);  // now that the new member has its name
        }
        note_members(kept.members());
        wait_members(kept.members());
      }
    }
    return answer;
  }
  // A URL, client URL or name of this cluster's, shown in answers as `shown`.
  void show_as(const std::string& from, const std::string& shown) { strings_[from] = shown; }
  // A peer URL this cluster's requests use for "<peer NAME>".
  void name_peer_url(const std::string& name, const std::string& url) {
    peer_urls_["<m" + name + ">"] = url;
    strings_["\"" + url + "\""] = "\"<" + name + " peer>\"";
  }

  etcdserverpb::MemberAddResponse last_added;  // the last MemberAdd that took

  uint64_t id(const Who& who) const {
    if (who.kind == Who::running) return running_.at(who.index);
    if (who.kind == Who::added && who.index < added_.size()) return added_[who.index];
    return 42;
  }
  std::size_t added_count() const { return added_.size(); }
  void record_added(uint64_t id) {
    names_[id] = "<a" + std::to_string(added_.size()) + ">";
    added_.push_back(id);
  }
  // Whether `who` is a learner, as the cluster's last membership answer listed it.
  bool is_learner(const Who& who) const { return learners_.count(id(who)) != 0; }
  void note_members(const google::protobuf::RepeatedPtrField<etcdserverpb::Member>& members) {
    learners_.clear();
    for (const auto& m : members) {
      if (m.islearner()) learners_.insert(m.id());
    }
  }
  // One of kPeerUrls, "<peer N>" made this cluster's.
  std::string peer_url(const std::string& pooled) const {
    if (pooled.rfind("<peer ", 0) != 0) return pooled;
    return peer_urls_.at("<m" + pooled.substr(6, pooled.size() - 7) + ">");
  }

  // The answer in one line, as comparable with the other cluster's.
  template <typename Response>
  std::string format(Response& r) const {
    std::vector<std::string> parts;  // of lists in no fixed order, each item's text, sorted
    if constexpr (requires { r.mutable_members(); }) {
      // etcd lists members by id, which differ between the clusters: ours must too.
      for (int i = 1; i < r.members_size(); ++i) CHECK(r.members(i - 1).id() < r.members(i).id());
      for (auto& m : *r.mutable_members()) parts.push_back("members {" + rename(text_of(m)) + "}");
      r.clear_members();
    }
    if constexpr (std::is_same_v<Response, etcdserverpb::AlarmResponse>) {
      // etcd's come from a Go map, in no order.
      for (auto& a : *r.mutable_alarms()) parts.push_back("alarms {" + rename(text_of(a)) + "}");
      r.clear_alarms();
    }
    if constexpr (std::is_same_v<Response, etcdserverpb::StatusResponse>) {
      // What names the member's own progress and build.
      r.clear_version();
      r.clear_dbsize();
      r.clear_dbsizeinuse();
      r.clear_raftindex();
      r.clear_raftappliedindex();
      r.clear_raftterm();
      r.mutable_header()->clear_revision();
      for (const auto& e : r.errors()) parts.push_back("errors: " + rename(e));
      r.clear_errors();
    }
    std::sort(parts.begin(), parts.end());
    std::string out = rename(text_of(r));
    for (const auto& p : parts) out += " " + p;
    return out;
  }

  // Waits until every member lists the members `want` lists (ids, URLs and roles): a member
  // applies a change it did not make a moment later, in etcd as in ours.
  void wait_members(const google::protobuf::RepeatedPtrField<etcdserverpb::Member>& want) {
    auto key = [](const etcdserverpb::Member& m) {
      std::string k = std::to_string(m.id()) + (m.islearner() ? " learner" : " voter");
      for (const auto& u : m.peerurls()) k += " " + u;
      return k;
    };
    std::set<std::string> expected;
    for (const auto& m : want) expected.insert(key(m));
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (auto& member : members_) {
      for (;;) {
        etcdserverpb::MemberListResponse list;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 10s);
        std::set<std::string> got;
        if (member->cluster_->MemberList(&context, {}, &list).ok()) {
          for (const auto& m : list.members()) got.insert(key(m));
        }
        if (got == expected) break;
        REQUIRE(std::chrono::steady_clock::now() < until);
        std::this_thread::sleep_for(10ms);  // polls a condition: the member applied the change
      }
    }
  }

 private:
  // Member ids (whole numbers in the text) and this cluster's URLs and names, by place.
  std::string rename(const std::string& text) const {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
        out += text[i++];
        continue;
      }
      std::size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      const std::string number = text.substr(i, j - i);
      auto named = number.size() > 6 ? names_.find(std::strtoull(number.c_str(), nullptr, 10))
                                     : names_.end();
      out += named == names_.end() ? number : named->second;
      i = j;
    }
    for (const auto& [from, to] : strings_) {
      for (auto at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
        out.replace(at, from.size(), to);
      }
    }
    return out;
  }

  std::vector<std::unique_ptr<StoreStubs>> members_;
  std::vector<uint64_t> running_;  // by place
  std::vector<uint64_t> added_;    // in the order the stream added them
  std::set<uint64_t> learners_;
  std::map<uint64_t, std::string> names_;
  std::map<std::string, std::string> peer_urls_;  // "<mN>" -> its peer URL
  std::map<std::string, std::string> strings_;
};

class Requests {
 public:
  explicit Requests(uint64_t seed) : random_(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool one_in(int n) { return pick(n) == 0; }

  // Any member: running (if `running` allows), added so far (or one more than that: not
  // there), or none.
  Who who(std::size_t added, bool running = true) {
    const int kind = pick(running ? 3 : 2);
    if (kind == 0 || (kind == 2 && added == 0)) return {};
    if (kind == 1) return {Who::added, static_cast<std::size_t>(pick(static_cast<int>(added) + 1))};
    return {Who::running, static_cast<std::size_t>(pick(3))};
  }
  std::string peer_url() { return kPeerUrls[pick(static_cast<int>(std::size(kPeerUrls)))]; }
  // One that etcd 3.4 can take in a MemberUpdate. Given an ill-formed one, its member panics
  // when it applies the update ("newURLs ... should never fail"), and again at every restart,
  // as the update is in its log. Ours refuses it (kErrMemberBadURLs).
  std::string well_formed_peer_url() {
    static const int kWellFormed[] = {0, 1, 2, 3, 7, 8};
    return kPeerUrls[kWellFormed[pick(static_cast<int>(std::size(kWellFormed)))]];
  }

 private:
  std::mt19937_64 random_;
};

// A three-member cluster of etcd's and one of ours, each ready for membership changes and led
// by its member 0, so that answers naming the leader compare.
struct TwoClusters {
  TwoClusters() {
    REQUIRE(etcd_cluster.ready());
    etcd.wait_ready_for_changes();
    ours.wait_ready_for_changes();
    etcd.lead_from_member0();
    ours.lead_from_member0();
  }
  mgmt::test::RealEtcdCluster etcd_cluster{3};
  mgmt::test::OurCluster our_cluster{3};
  Side etcd{etcd_cluster.endpoints()};
  Side ours{our_cluster.endpoints()};
};

void run_seed(uint64_t seed, Side& etcd, Side& ours) {
  Requests gen(seed);
  std::string previous;
  std::set<std::vector<std::string>> added_urls;  // the URLs of every MemberAdd so far
  std::set<std::pair<std::string, int>> raised;  // the alarms raised: (member, type)
  std::set<std::size_t> removed;  // the members the stream added and then removed
  const bool verbose = std::getenv("MGMT_COMPAT_VERBOSE") != nullptr;  // prints etcd's answers
  for (int i = 0; i < kRequestsPerSeed; ++i) {
    std::size_t via = static_cast<std::size_t>(gen.pick(3));
    std::string request = "via <m" + std::to_string(via) + ">: ";
    std::string want;
    std::string got;
    // Sends make(side) to both clusters' member `via`.
    auto ask = [&](auto stub, auto method, auto make) {
      want = etcd.ask(via, stub, method, make(etcd));
      got = ours.ask(via, stub, method, make(ours));
    };
    const int kind = gen.pick(100);
    if (kind < 15) {
      const bool learner = gen.one_in(2);
      std::vector<std::string> urls{gen.peer_url()};
      if (gen.one_in(3)) urls.push_back(gen.peer_url());
      // Never the same URLs twice: etcd derives a new member's id from its URLs and the
      // second it is added in, so a second add of the same URLs within a second finds the id
      // taken ("member ID already exist") or removed ("member not found"), and a second later
      // not. Ours draws ids at random. So the stream adds a new URL whenever it would repeat.
      std::vector<std::string> sorted = urls;
      std::sort(sorted.begin(), sorted.end());
      if (!added_urls.insert(sorted).second) {
        urls.push_back("http://127.0.0.1:" + std::to_string(10000 + i));
      }
      request += std::string("MemberAdd ") + (learner ? "learner" : "voter");
      for (const auto& u : urls) request += " " + u;
      ask(&StoreStubs::cluster_, &etcdserverpb::Cluster::Stub::MemberAdd, [&](Side& side) {
        etcdserverpb::MemberAddRequest r;
        for (const auto& u : urls) r.add_peerurls(side.peer_url(u));
        r.set_islearner(learner);
        return r;
      });
    } else if (kind < 25) {
      const Who who = gen.who(etcd.added_count(), false);
      request += "MemberRemove " + who.text();
      ask(&StoreStubs::cluster_, &etcdserverpb::Cluster::Stub::MemberRemove, [&](Side& side) {
        etcdserverpb::MemberRemoveRequest r;
        r.set_id(side.id(who));
        return r;
      });
      if (want.rfind("error", 0) != 0 && who.kind == Who::added) removed.insert(who.index);
    } else if (kind < 35) {
      // (Not a running member: one whose peer URL changes is cut off from the others. Not a
      // learner: etcd 3.4 lists a learner it updates as a voter from then on, while its Raft
      // keeps it a learner, for good (its MemberUpdate sets the member's Raft attributes
      // without the learner flag). Ours keeps it a learner.)
      Who who = gen.who(etcd.added_count(), false);
      if (etcd.is_learner(who)) who = Who{};
      const std::string url = gen.well_formed_peer_url();
      request += "MemberUpdate " + who.text() + " " + url;
      ask(&StoreStubs::cluster_, &etcdserverpb::Cluster::Stub::MemberUpdate, [&](Side& side) {
        etcdserverpb::MemberUpdateRequest r;
        r.set_id(side.id(who));
        r.add_peerurls(side.peer_url(url));
        return r;
      });
    } else if (kind < 45) {
      const Who who = gen.who(etcd.added_count());
      // A member removed before, promoted through a follower: etcd 3.4's follower forwards the
      // promotion to the leader and, told the id was removed, asks again until the request
      // times out (7 s). Ours answers "member not found" at once. So such a promotion goes to
      // the leader (member 0 leads throughout).
      if (who.kind == Who::added && removed.count(who.index) != 0) {
        via = 0;
        request = "via <m0>: ";
      }
      request += "MemberPromote " + who.text();
      ask(&StoreStubs::cluster_, &etcdserverpb::Cluster::Stub::MemberPromote, [&](Side& side) {
        etcdserverpb::MemberPromoteRequest r;
        r.set_id(side.id(who));
        return r;
      });
    } else if (kind < 52) {
      request += "MemberList";
      ask(&StoreStubs::cluster_, &etcdserverpb::Cluster::Stub::MemberList,
          [](Side&) { return etcdserverpb::MemberListRequest(); });
    } else if (kind < 58) {
      request += "Status";
      ask(&StoreStubs::maintenance_, &etcdserverpb::Maintenance::Stub::Status,
          [](Side&) { return etcdserverpb::StatusRequest(); });
    } else if (kind < 72) {
      auto action = static_cast<etcdserverpb::AlarmRequest::AlarmAction>(gen.pick(3));
      const auto alarm = static_cast<etcdserverpb::AlarmType>(gen.pick(3));
      const Who who = gen.one_in(4) ? Who{Who::unknown, 0} : Who{Who::running, via};
      const bool zero = gen.one_in(5);
      const std::string member = zero ? "0" : who.text();
      // Never NOSPACE and CORRUPT at once: a running etcd 3.4 keeps the applier of the last
      // alarm raised or cleared (raising NOSPACE under CORRUPT lets deletes through again,
      // clearing one of the two clears both), and only a restart applies both. Ours applies
      // every raised alarm, as etcd after a restart (alarms.h).
      if (action == etcdserverpb::AlarmRequest::ACTIVATE && alarm != etcdserverpb::NONE) {
        for (const auto& [m, type] : raised) {
          if (type != alarm) action = etcdserverpb::AlarmRequest::GET;
        }
      }
      // Nor NONE raised: etcd 3.4 raises an alarm of no type (and for member 0 panics, at once
      // and at every restart: the alarm's key is empty, "cannot put key into bucket"). etcd 3.5
      // ignores such a request, and so does ours.
      if (action == etcdserverpb::AlarmRequest::ACTIVATE && alarm == etcdserverpb::NONE) {
        action = etcdserverpb::AlarmRequest::GET;
      }
      request += "Alarm " + etcdserverpb::AlarmRequest::AlarmAction_Name(action) + " " +
                 etcdserverpb::AlarmType_Name(alarm) + " " + member;
      ask(&StoreStubs::maintenance_, &etcdserverpb::Maintenance::Stub::Alarm, [&](Side& side) {
        etcdserverpb::AlarmRequest r;
        r.set_action(action);
        r.set_alarm(alarm);
        r.set_memberid(zero ? 0 : side.id(who));
        return r;
      });
      if (action != etcdserverpb::AlarmRequest::GET) {
        etcd.wait_alarms(via);
        ours.wait_alarms(via);
      }
      if (want.rfind("error", 0) != 0 && alarm != etcdserverpb::NONE) {
        if (action == etcdserverpb::AlarmRequest::ACTIVATE) raised.insert({member, alarm});
        if (action == etcdserverpb::AlarmRequest::DEACTIVATE) raised.erase({member, alarm});
      }
    } else if (kind < 75) {
      request += "Defragment";
      ask(&StoreStubs::maintenance_, &etcdserverpb::Maintenance::Stub::Defragment,
          [](Side&) { return etcdserverpb::DefragmentRequest(); });
    } else if (kind < 85) {
      const std::string key = "k" + std::to_string(gen.pick(3));
      request += "Put " + key;
      ask(&StoreStubs::kv_, &etcdserverpb::KV::Stub::Put, [&](Side&) {
        etcdserverpb::PutRequest r;
        r.set_key(key);
        r.set_value("v");
        return r;
      });
    } else if (kind < 89) {
      request += "DeleteRange k0..";
      ask(&StoreStubs::kv_, &etcdserverpb::KV::Stub::DeleteRange, [&](Side&) {
        etcdserverpb::DeleteRangeRequest r;
        r.set_key("k0");
        r.set_range_end("k9");
        return r;
      });
    } else if (kind < 94) {
      const bool serializable = gen.one_in(3);
      request += std::string("Range k0..") + (serializable ? " serializable" : "");
      ask(&StoreStubs::kv_, &etcdserverpb::KV::Stub::Range, [&](Side&) {
        etcdserverpb::RangeRequest r;
        r.set_key("k0");
        r.set_range_end("k9");
        r.set_serializable(serializable);
        r.set_count_only(true);  // a follower's serializable read may miss the last write
        return r;
      });
    } else if (kind < 97) {
      const int64_t id = 100 + gen.pick(3);
      request += "LeaseGrant " + std::to_string(id);
      ask(&StoreStubs::lease_, &etcdserverpb::Lease::Stub::LeaseGrant, [&](Side&) {
        etcdserverpb::LeaseGrantRequest r;
        r.set_id(id);
        r.set_ttl(1000);
        return r;
      });
    } else {
      request += "Compact";
      ask(&StoreStubs::kv_, &etcdserverpb::KV::Stub::Compact, [&](Side&) {
        etcdserverpb::CompactionRequest r;
        r.set_revision(1);
        return r;
      });
    }
    if (verbose) std::cerr << "request " << i << ": " << request << "\n  -> " << want << "\n";
    INFO("seed " << seed << ", request " << i << ": " << request);
    INFO("the request before it: " << previous);
    REQUIRE(got == want);
    previous = request;
  }
}

}  // namespace

TEST_CASE("compat: random membership changes, alarms, status and defragmentation get etcd "
          "3.4's answers from our store", "[compat][cluster]") {
  mgmt::test::require_program("etcd", "etcd-server");
  std::vector<uint64_t> seeds{1, 2};
  if (const char* one = std::getenv("MGMT_COMPAT_SEED")) seeds = {std::strtoull(one, nullptr, 10)};
  for (uint64_t seed : seeds) {
    TwoClusters c;
    run_seed(seed, c.etcd, c.ours);
  }
}

namespace {

// Starts the member the last MemberAdd of `side` added, named "new" and listening on its
// "<peer new>" URL: through `start` (etcd's or ours), which returns its client URL.
void start_new_member(Side& side, const std::function<std::string(const std::string&)>& start) {
  const std::string client = start(side.peer_url("<peer new>"));
  REQUIRE(!client.empty());
  side.show_as("\"" + client + "\"", "\"<new client>\"");
}

// Asks `ask` of both until neither answers `passing` (what a moment cures), then compares.
void settle_and_compare(const std::string& request, const std::string& passing,
                        const std::function<std::string(Side&)>& ask, Side& etcd, Side& ours) {
  std::string answers[2];
  Side* sides[2] = {&etcd, &ours};
  for (int s = 0; s < 2; ++s) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      answers[s] = ask(*sides[s]);
      if (answers[s].find(passing) == std::string::npos) break;
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(100ms);  // polls a condition: the cluster gets there
    }
  }
  if (std::getenv("MGMT_COMPAT_VERBOSE")) std::cerr << request << "\n  -> " << answers[0] << "\n";
  INFO(request);
  REQUIRE(answers[1] == answers[0]);
}

}  // namespace

TEST_CASE("compat: a learner started, caught up and promoted, and a running member removed, "
          "get etcd 3.4's answers from ours", "[compat][cluster]") {
  mgmt::test::require_program("etcd", "etcd-server");
  TwoClusters c;
  auto& etcd = c.etcd;
  auto& ours = c.ours;
  for (Side* side : {&etcd, &ours}) {
    side->name_peer_url("new", "http://127.0.0.1:" + std::to_string(mgmt::test::free_port()));
  }
  auto both = [&](const std::string& request, std::size_t via, auto stub, auto method,
                  auto make) {
    const std::string want = etcd.ask(via, stub, method, make(etcd));
    const std::string got = ours.ask(via, stub, method, make(ours));
    if (std::getenv("MGMT_COMPAT_VERBOSE")) std::cerr << request << "\n  -> " << want << "\n";
    INFO(request);
    REQUIRE(got == want);
  };
  auto add = [](const std::string& url, bool learner) {
    return [url, learner](Side& side) {
      etcdserverpb::MemberAddRequest r;
      r.add_peerurls(side.peer_url(url));
      r.set_islearner(learner);
      return r;
    };
  };
  auto promote = [](Side& side) {
    etcdserverpb::MemberPromoteRequest r;
    r.set_id(side.id({Who::added, 0}));
    return r;
  };
  auto list = [](Side&) { return etcdserverpb::MemberListRequest(); };
  const auto cluster = &StoreStubs::cluster_;
  using Stub = etcdserverpb::Cluster::Stub;

  both("add the learner", 0, cluster, &Stub::MemberAdd, add("<peer new>", true));
  both("promote it before it runs", 1, cluster, &Stub::MemberPromote, promote);

  start_new_member(etcd, [&](const std::string& peer) {
    std::string initial;
    for (const auto& m : etcd.last_added.members()) {
      initial += (initial.empty() ? "" : ",") + (m.name().empty() ? "new" : m.name()) + "=" +
                 m.peerurls(0);
    }
    return c.etcd_cluster.join("new", peer, initial);
  });
  start_new_member(ours, [&](const std::string& peer) {
    return c.our_cluster.join(ours.last_added, peer, "new");
  });
  ours.show_as("name: \"new\"", "name: \"<new>\"");
  etcd.show_as("name: \"new\"", "name: \"<new>\"");

  // Once it has started (published its name; until then the lists differ by a moment)...
  auto list_members = [&](Side& side) {
    return side.ask(1, cluster, &Stub::MemberList, list(side));
  };
  settle_and_compare("list the members with the learner", "members {ID: <a0> peerURLs",
                     list_members, etcd, ours);
  // ... and caught up, it is promoted through a follower.
  settle_and_compare("promote it once it runs", "in sync with leader",
                     [&](Side& side) {
                       return side.ask(2, cluster, &Stub::MemberPromote, promote(side));
                     },
                     etcd, ours);
  both("list the members", 1, cluster, &Stub::MemberList, list);
  // Four voters, all started: a fifth that never runs is still a quorum's worth, once the
  // leader has been connected to the new member for 5 s.
  settle_and_compare("add a voter that never runs", "unhealthy cluster",
                     [&](Side& side) {
                       return side.ask(0, cluster, &Stub::MemberAdd,
                                       add("http://127.0.0.1:1", false)(side));
                     },
                     etcd, ours);
  // Now a voter is down for good: nothing more is added.
  both("add a learner with a voter down", 2, cluster, &Stub::MemberAdd,
       add("http://127.0.0.1:2", true));
  both("promote a voter", 0, cluster, &Stub::MemberPromote, promote);
  // The running new member goes, once the leader has been connected to it for 5 s.
  settle_and_compare("remove the running new member", "unhealthy cluster",
                     [&](Side& side) {
                       etcdserverpb::MemberRemoveRequest r;
                       r.set_id(side.id({Who::added, 0}));
                       return side.ask(1, cluster, &Stub::MemberRemove, r);
                     },
                     etcd, ours);
  both("remove the voter that never ran", 0, cluster, &Stub::MemberRemove, [](Side& side) {
    etcdserverpb::MemberRemoveRequest r;
    r.set_id(side.id({Who::added, 1}));
    return r;
  });
  both("list the members", 2, cluster, &Stub::MemberList, list);
}
