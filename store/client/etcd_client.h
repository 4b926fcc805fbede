// etcd_client.h: mgmt's client of the etcd v3 API, used by `mgmt deploy`, `mgmt get` and the
// agent. It speaks to our store and to a real etcd alike. Calls are synchronous, with a
// deadline; each one tries the endpoints in order until one answers, so a cluster keeps
// working while one member is down.
// Errors are one line naming the endpoint(s) and a remedy, e.g.
//   cannot reach the store at http://127.0.0.1:2379 (connection refused); is `mgmt run` or etcd
//   running there? Point --seeds at it
// or, from a member whose cluster lost its quorum,
//   the store at http://127.0.0.1:2379 answers but has no leader (etcdserver: no leader): its
//   cluster lost its quorum; start its stopped members again, until most of them run
// or, from a store that took the connection and then did not answer within the deadline,
//   the store at http://127.0.0.1:2379 takes connections but did not answer in time (Deadline
//   Exceeded): it is paused or overloaded, or its cluster lost its quorum; check that most of
//   its members run and answer (etcdctl endpoint status)
// Thread-safety: all methods are thread-safe (gRPC stubs are); a Watch delivers on its own
// thread until it is destroyed.
#pragma once

#include "common/result.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::store::client {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct GetOptions {
  bool prefix = false;
  bool keys_only = false;
  int64_t revision = 0;
  int64_t limit = 0;
  bool serializable = false;  // answer from the member's local state (no ReadIndex round)
};

struct GetResult {
  int64_t revision = 0;  // the store revision the read saw
  std::vector<KeyValue> kvs;
};

// One operation of a transaction (etcd's Txn: if every compare holds, `then`, else `otherwise`).
struct Compare {
  enum class Target { version, value, mod_revision };
  std::string key;
  Target target = Target::version;
  int64_t number = 0;  // for version / mod_revision: equal to this
  std::string value;   // for value: equal to this
};
struct Put {
  std::string key;
  std::string value;
  int64_t lease = 0;
};

struct WatchEvent {
  bool is_delete = false;
  KeyValue kv;
};

// A member of the cluster, as MemberList shows it.
struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct MemberAddResult {
  uint64_t cluster_id = 0;
  MemberInfo added;
  std::vector<MemberInfo> members;
};

// What a watch calls back (EtcdClient::watch).
struct WatchCallbacks {
  std::function<void(const std::vector<WatchEvent>&)> on_events;
  std::function<void(const Error&)> on_error;
  std::function<void(const std::string&)> on_notice;  // may be empty
  // May be empty. Away from the store, the watch could not resume where it was: the store had
  // compacted that history. The changes in between are lost to it; it goes on from the store's
  // revision then, and calls this as the cue to read again what it follows.
  std::function<void(const Error&)> on_gap;
};

// Ends the watch (and joins its thread) when destroyed.
class Watch {
 public:
  virtual ~Watch() = default;
};

class EtcdClient {
 public:
  // Checks the URLs; does not connect yet (the first call does).
  [[nodiscard]] static Result<std::unique_ptr<EtcdClient>> open(
      const std::vector<std::string>& endpoints,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  [[nodiscard]] Result<GetResult> get(const std::string& key, const GetOptions& options = {});
  [[nodiscard]] Result<int64_t> put(const std::string& key, const std::string& value,
                                    int64_t lease = 0);
  [[nodiscard]] Result<int64_t> del(const std::string& key, bool prefix = false);
  // Returns whether the compares held (and `then` was applied).
  [[nodiscard]] Result<bool> txn(const std::vector<Compare>& compares,
                                 const std::vector<Put>& then);
  [[nodiscard]] Result<int64_t> lease_grant(int64_t ttl_seconds);
  [[nodiscard]] Result<void> lease_keep_alive_once(int64_t lease);
  // timeout (when not zero) replaces the client's for this call: an agent that stops revokes
  // its leases as a courtesy, and does not wait long on a store without quorum for it.
  [[nodiscard]] Result<void> lease_revoke(int64_t lease, std::chrono::milliseconds timeout = {});

  // The members; also the id of the cluster that answered, when `cluster_id` is given.
  [[nodiscard]] Result<std::vector<MemberInfo>> member_list(uint64_t* cluster_id = nullptr);
  // The id of the cluster the endpoints serve (from a MemberList answer's header).
  [[nodiscard]] Result<uint64_t> cluster_id();
  [[nodiscard]] Result<MemberAddResult> member_add(const std::vector<std::string>& peer_urls,
                                                   bool is_learner);
  [[nodiscard]] Result<void> member_remove(uint64_t id);

  // Watches `key` (or every key under it with prefix) from `start_revision`. With 0 it starts
  // just after the revision this call reads from the store, so every change made after watch()
  // returns is delivered, even one the store applies before it has set the watch up.
  // The callbacks run on the watch's own thread, one at a time. on_events gets each response's
  // events in order, each event once: when the stream breaks (the member restarted, went away
  // or was cut off) the watch opens another on whichever endpoint answers, from the revision
  // after the last event delivered, trying again after 0.1 s, doubling up to 10 s, until it is
  // destroyed; on_notice (optional) is told of the loss and the return, for logs. If the store
  // compacted the history in between, the watch goes on from then and calls on_gap (or, without
  // one, ends with on_error). on_error is called once if the store ends the watch: the history
  // it first asked for was compacted, or the store canceled it. The client must outlive its
  // watches.
  [[nodiscard]] Result<std::unique_ptr<Watch>> watch(const std::string& key, bool prefix,
                                                     int64_t start_revision,
                                                     WatchCallbacks callbacks);
  // The same with on_events and on_error only.
  [[nodiscard]] Result<std::unique_ptr<Watch>> watch(
      const std::string& key, bool prefix, int64_t start_revision,
      std::function<void(const std::vector<WatchEvent>&)> on_events,
      std::function<void(const Error&)> on_error);

  // Ends the calls under way at once, and makes every later call fail at once, each with
  // Code::cancelled and `why`: an agent that stops does not wait out the timeout of a call to a
  // store that lost its quorum (its resources' calls, say). Watches are not affected.
  void cancel_calls(const std::string& why);
  // Lets calls through again after cancel_calls: a background thread's call is abandoned at
  // once when its owner stops, and the owner's last courtesy calls (revokes) still go out.
  void resume_calls();

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  struct Impl;
  EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  std::vector<std::string> endpoints_;
  std::unique_ptr<Impl> impl_;
};

// The range_end that makes `key` a prefix query.
std::string prefix_end(const std::string& key);

}  // namespace mgmt::store::client
