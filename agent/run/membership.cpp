// membership.cpp: see membership.h.
#include "agent/run/membership.h"

#include "common/log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace mgmt::agent::run {
namespace {

constexpr const char* kVolunteers = "/_mgmt/volunteers/";
constexpr const char* kNominated = "/_mgmt/nominated/";
// How often the loops look again without an event (membership changes come from the store's
// own Raft log, which the agent does not watch).
constexpr auto kRecheck = std::chrono::seconds(2);
// How long a joining agent asks again while the cluster cannot take a member yet.
constexpr auto kJoinPatience = std::chrono::seconds(120);

}  // namespace

Result<void> ask_to_join(store::client::EtcdClient& client,
                         const std::vector<std::string>& peer_urls,
                         store::server::StoreConfig& config) {
  // Two refusals pass by themselves, as in etcd: its leader must have been connected to every
  // voter for 5 s (a member that just joined is not yet), and the cluster takes one learner at
  // a time (another agent's, until the leader promotes it). So those are asked again.
  const auto until = std::chrono::steady_clock::now() + kJoinPatience;
  auto added = client.member_add(peer_urls, /*is_learner=*/true);
  bool told = false;
  while (!added && std::chrono::steady_clock::now() < until &&
         (added.error().message().find("etcdserver: unhealthy cluster") != std::string::npos ||
          added.error().message().find("too many learner members") != std::string::npos)) {
    if (!told) {
      log::get("agent")->info("the cluster cannot take this agent yet ({}); asking again for "
                              "up to {} s",
                              added.error().message(), kJoinPatience.count());
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the refusal's cause is time
    added = client.member_add(peer_urls, /*is_learner=*/true);
  }
  if (!added) {
    return fail(Code::unavailable,
                "the cluster refused to add this agent (" + added.error().message() +
                    "); if it was a member before, remove it with `etcdctl member remove` or "
                    "start it with its old --prefix");
  }
  config.join_cluster_id = added->cluster_id;
  config.join_member_id = added->added.id;
  config.join_peers.clear();
  for (const auto& m : added->members) {
    if (!m.peer_urls.empty()) config.join_peers[m.id] = m.peer_urls.front();
  }
  return ok();
}

// ---- Volunteer ----

Volunteer::Volunteer(EtcdStoreAccess& store, std::string hostname,
                     std::vector<std::string> peer_urls, std::function<void()> on_nominated)
    : store_(store),
      hostname_(std::move(hostname)),
      peer_urls_(std::move(peer_urls)),
      on_nominated_(std::move(on_nominated)) {
  for (const std::string& key : {kVolunteers + hostname_, kNominated + hostname_}) {
    if (auto w = store_.watch(key, [this] { poke(); })) watches_.push_back(std::move(w));
  }
  thread_ = std::thread([this] { loop(); });
}

Volunteer::~Volunteer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  watches_.clear();
}

void Volunteer::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

void Volunteer::loop() {
  auto log = log::get("agent");
  const std::string offer = nlohmann::json{{"peer_urls", peer_urls_}}.dump();
  bool offered = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kRecheck, [&] { return stopping_ || poked_; });
      if (stopping_) return;
      poked_ = false;
    }
    log->debug("asking the cluster whether it nominated this agent to be a store member");
    auto nominated = store_.get(kNominated + hostname_);
    if (nominated && nominated->has_value()) {
      log->info("nominated to join the cluster's store: joining");
      on_nominated_();
      (void)store_.del(kVolunteers + hostname_);  // a member now (or it said why not)
      return;
    }
    auto mine = store_.get(kVolunteers + hostname_);
    if (mine && (!mine->has_value() || **mine != offer)) {
      if (store_.put_expiring(kVolunteers + hostname_, offer, 10, false)) {
        if (!offered) {
          log->info("volunteering to be a store member when the cluster needs one");
        }
        offered = true;
      }
    }
  }
}

// ---- Chooser ----

Chooser::Chooser(EtcdStoreAccess& store, store::client::EtcdClient& client,
                 std::function<store::server::StoreServer*()> member_store, size_t ideal)
    : store_(store), client_(client), member_store_(std::move(member_store)), ideal_(ideal) {
  volunteers_watch_ = store_.watch_prefix(kVolunteers, [this] {
    {
      std::lock_guard lock(mutex_);
      poked_ = true;
    }
    wake_.notify_all();
  });
  thread_ = std::thread([this] { loop(); });
}

Chooser::~Chooser() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  volunteers_watch_.reset();
}

void Chooser::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kRecheck, [&] { return stopping_ || poked_; });
      if (stopping_) return;
      poked_ = false;
    }
    choose_once();
  }
}

void Chooser::choose_once() {
  store::server::StoreServer* member = member_store_();
  if (member == nullptr || member->leader_id() == 0 || member->leader_id() != member->member_id()) {
    return;  // only the leader's agent chooses
  }
  auto members = client_.member_list();
  if (!members) return;
  std::set<std::string> member_urls;
  for (const auto& m : *members) member_urls.insert(m.peer_urls.begin(), m.peer_urls.end());
  auto volunteers = store_.get_prefix(kVolunteers);
  auto nominated = store_.get_prefix(kNominated);
  if (!volunteers || !nominated) return;
  auto offered_urls = [](const std::string& value) {
    std::vector<std::string> urls;
    auto offer = nlohmann::json::parse(value, nullptr, false);
    if (!offer.is_object() || !offer.contains("peer_urls") || !offer["peer_urls"].is_array()) {
      return urls;
    }
    for (const auto& u : offer["peer_urls"]) {
      if (u.is_string()) urls.push_back(u.get<std::string>());
    }
    return urls;
  };
  auto is_member = [&](const std::string& value) {
    for (const auto& u : offered_urls(value)) {
      if (member_urls.count(u)) return true;
    }
    return false;
  };
  // A nomination is done when its host is a member, or has stopped volunteering.
  std::set<std::string> pending;
  for (const auto& [key, value] : *nominated) {
    const std::string host = key.substr(std::string(kNominated).size());
    auto offer = volunteers->find(kVolunteers + host);
    if (offer == volunteers->end() || is_member(offer->second)) {
      (void)store_.del(key);
      continue;
    }
    pending.insert(host);
  }
  if (members->size() >= ideal_ || !pending.empty()) return;
  for (const auto& [key, value] : *volunteers) {
    if (offered_urls(value).empty() || is_member(value)) continue;
    const std::string host = key.substr(std::string(kVolunteers).size());
    if (store_.put_expiring(kNominated + host, "", 30, false)) {
      log::get("agent")->info("the cluster has {} of {} members: nominating volunteer {}",
                              members->size(), ideal_, host);
    }
    return;  // one at a time
  }
}

}  // namespace mgmt::agent::run
