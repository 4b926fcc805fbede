// exports.h: Meta:export: the resources of this host's graph that carry `Meta:export =>
// [hosts]` are published in the cluster store for the `collect` statement and collect.res on
// those hosts ("*": every host): /_mgmt/exported/HOSTNAME/KIND/NAME = {"params": {...},
// "to": [...]}. Each graph this host loads replaces the set: new or changed exports are put,
// ones no longer in the graph deleted. Exports stay when the agent stops (as deploys do).
// Thread-safety: publish is called by whoever swaps graphs, one at a time.
#pragma once

#include "agent/run/store_access.h"
#include "common/result.h"
#include "frontends/graph_spec.h"

#include <string>

namespace mgmt::agent::run {

// Where a host's exports live in the store.
std::string exports_prefix(const std::string& hostname);

// Makes the store hold exactly `graph`'s exports from `hostname`; says what it changed.
Result<std::size_t> publish_exports(EtcdStoreAccess& store, const std::string& hostname,
                                    const frontends::GraphSpec& graph);

}  // namespace mgmt::agent::run
