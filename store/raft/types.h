// types.h: the vocabulary of the Raft core: log entries, hard state, membership (ConfState,
// ConfChange), snapshots, the messages peers exchange, and what a Ready hands the driver.
// Plain values only; encoding for disk and wire lives in codec.h.
// Invariants: node id 0 (kNone) means "nobody"; index 0 and term 0 are "before the log".
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mgmt::store::raft {

using NodeId = uint64_t;
inline constexpr NodeId kNone = 0;

enum class EntryType : uint8_t { normal = 0, conf_change = 1 };

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::normal;
  std::string data;  // for conf_change: codec::encode(ConfChange)
  bool operator==(const Entry&) const = default;
};

// The size an entry counts for in byte limits (data plus a fixed overhead for index, term and
// type), so that even empty entries count and a limit of 1 byte means one entry per message.
inline uint64_t entry_size(const Entry& e) { return e.data.size() + 16; }

// What must be durable before any message that depends on it leaves the node.
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNone;
  uint64_t commit = 0;
  bool operator==(const HardState&) const = default;
  bool empty() const { return term == 0 && vote == kNone && commit == 0; }
};

// The membership: voters elect and count for commit; learners only receive the log.
struct ConfState {
  std::set<NodeId> voters;
  std::set<NodeId> learners;
  bool operator==(const ConfState&) const = default;
  bool contains(NodeId id) const { return voters.count(id) || learners.count(id); }
};

// One-at-a-time membership change (see docs/raft.md for why not joint consensus).
enum class ConfChangeType : uint8_t { add_node = 0, add_learner = 1, remove_node = 2 };

struct ConfChange {
  ConfChangeType type = ConfChangeType::add_node;
  NodeId node_id = kNone;
  std::string context;  // opaque to the core (the store puts the member's peer URLs here)
  bool operator==(const ConfChange&) const = default;
};

struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  ConfState conf_state;
  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // the state machine at meta.index, opaque to the core
  bool operator==(const Snapshot&) const = default;
  bool empty() const { return meta.index == 0; }
};

enum class MessageType : uint8_t {
  hup = 0,             // local: start an election
  beat = 1,            // local: leader sends heartbeats
  propose = 2,         // client data; followers forward it to the leader
  append = 3,          // leader -> follower: entries after (index, log_term), commit
  append_response = 4,
  vote = 5,
  vote_response = 6,
  snapshot = 7,        // leader -> follower: install this snapshot
  heartbeat = 8,
  heartbeat_response = 9,
  unreachable = 10,    // local: the transport could not reach `from`
  snapshot_status = 11,  // local: the transport reports a snapshot send (reject = failed)
  check_quorum = 12,   // local: leader checks it heard from a quorum
  transfer_leader = 13,
  timeout_now = 14,    // leader -> transferee: campaign now
  read_index = 15,
  read_index_response = 16,
  pre_vote = 17,
  pre_vote_response = 18,
};

const char* to_string(MessageType type);
bool is_local(MessageType type);
bool is_response(MessageType type);

struct Message {
  MessageType type = MessageType::hup;
  NodeId to = kNone;
  NodeId from = kNone;
  uint64_t term = 0;
  // append: term of `index`; votes: the candidate's last term; rejections: the hint's term
  uint64_t log_term = 0;
  uint64_t index = 0;     // append: index before entries; votes: candidate's last index
  std::vector<Entry> entries;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;
  std::optional<Snapshot> snapshot;
  std::string context;    // read index request id; "transfer" on forced campaigns
  bool operator==(const Message&) const = default;
};

enum class Role : uint8_t { follower = 0, pre_candidate = 1, candidate = 2, leader = 3 };
const char* to_string(Role role);

// Volatile state the driver may want to react to (leader changes fail pending requests).
struct SoftState {
  NodeId lead = kNone;
  Role role = Role::follower;
  bool operator==(const SoftState&) const = default;
};

// A linearizable read point: once the state machine has applied `index`, the read identified
// by `context` may be served.
struct ReadState {
  uint64_t index = 0;
  std::string context;
  bool operator==(const ReadState&) const = default;
};

// One batch of work for the driver. Contract (the Ready loop): persist `snapshot`, `entries`
// and `hard_state` (one synced write), then send `messages`, then apply `committed_entries`,
// then call Node::advance(). Nothing else may be stepped into the node in between.
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  std::vector<ReadState> read_states;
  std::vector<Entry> entries;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> committed_entries;
  std::vector<Message> messages;
};

}  // namespace mgmt::store::raft
