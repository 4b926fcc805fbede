// layout.h: where deploys live in the store (docs/deploy.md has the full description).
//
//   /_mgmt/deploy/latest          the newest deploy id, as decimal text
//   /_mgmt/deploy/<id>/payload    JSON: id, frontend, entry (the code's file, relative to the
//                                 shipped files), commit, dirty, time, deployer, noop, files;
//                                 puppet_entry and puppet_conf for puppet and langpuppet
//   /_mgmt/deploy/<id>/hash       the git commit of the code, or empty outside git
//   /_mgmt/fs/<id>/<path>         the code's files, byte for byte
//   /_mgmt/status/<hostname>      JSON: an agent's deploy id, converged, last error, role,
//                                 the newest deploy id it tried;
//                                 attached to a lease, so it vanishes when the agent dies
//
// A deploy is ONE transaction: it compares `latest` with the id the deployer saw and writes
// latest, payload, hash and files together, so two concurrent deployers never both win and an
// agent never sees half a deploy.
// Thread-safety: plain values and pure functions.
#pragma once

#include "common/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mgmt::agent::deploy {

inline const std::string kLatestKey = "/_mgmt/deploy/latest";
inline const std::string kDeployPrefix = "/_mgmt/deploy/";
inline const std::string kFsPrefix = "/_mgmt/fs/";
inline const std::string kStatusPrefix = "/_mgmt/status/";

std::string payload_key(int64_t id);
std::string hash_key(int64_t id);
std::string fs_prefix(int64_t id);

struct Payload {
  int64_t id = 0;
  std::string frontend;  // empty, yaml, lang, puppet, langpuppet
  std::string entry;     // the code file the frontend starts from, relative; empty for `empty`
  std::string commit;    // git commit, or empty outside git / with --no-git
  bool dirty = false;    // the work tree had changes not in the commit
  std::string time;      // when it was deployed, UTC, ISO 8601
  std::string deployer;  // host that deployed it
  bool noop = false;     // agents check but change nothing
  std::vector<std::string> files;  // relative paths under /_mgmt/fs/<id>/
  // puppet and langpuppet: the manifest (puppet: the same as entry; langpuppet: entry is the
  // mcl side's) and the puppet.conf shipped with it (empty: puppet's defaults), relative.
  std::string puppet_entry;
  std::string puppet_conf;
};

std::string encode_payload(const Payload& payload);
[[nodiscard]] Result<Payload> decode_payload(const std::string& text);

struct HostStatus {
  std::string host;
  int64_t deploy = 0;
  bool converged = false;
  std::string error;
  std::string role;  // voter (hosts the store), client (uses another's)
  // The newest deploy it tried to load: above `deploy` when that one failed, and then `error`
  // says why (so that `mgmt deploy --wait` can tell a failure of its deploy from an old one).
  int64_t attempted = 0;
};

std::string encode_status(const HostStatus& status);
[[nodiscard]] Result<HostStatus> decode_status(const std::string& text);

}  // namespace mgmt::agent::deploy
