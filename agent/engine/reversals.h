// reversals.h: what Meta reverse must undo, kept on disk so that it survives a restart of the
// agent. When a resource with Meta reverse first changes something, the engine records the
// spec its kind gives (Resource::reversal) under the resource's id, once: a later change of its
// parameters keeps the first record, which describes the machine before mgmt touched it. When
// a graph no longer has that id, the engine runs the recorded spec once and forgets it.
// File: DIR/reversals.json, {"kind[name]": {"kind", "name", "params"}}, rewritten atomically.
// Thread-safety: none (the engine calls it under its mutex or from swap).
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace mgmt::agent::engine {

class Reversals {
 public:
  // dir empty: kept in memory only. A damaged file is reported and set aside (renamed
  // reversals.json.damaged), never silently dropped.
  [[nodiscard]] Result<void> open(const std::string& dir);
  bool has(const std::string& id) const { return specs_.count(id) != 0; }
  [[nodiscard]] Result<void> record(const std::string& id, const frontends::ResourceSpec& spec);
  // The recorded specs whose ids are not in `keep`, removed from the record.
  [[nodiscard]] Result<std::vector<std::pair<std::string, frontends::ResourceSpec>>> take_missing(
      const std::set<std::string>& keep);

 private:
  Result<void> save() const;
  std::string path_;
  std::map<std::string, frontends::ResourceSpec> specs_;
};

}  // namespace mgmt::agent::engine
