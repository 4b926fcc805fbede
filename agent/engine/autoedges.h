// autoedges.h: the dependencies the engine adds by itself (Meta autoedge, on by default), so
// that a graph works in the obvious order without edges written out:
//   file  -> file    a file or directory after the directory that contains it
//   user  -> file    a file after the user (owner) and group (group) it names
//   group -> user    a user after its group and supplementary groups
//   file  -> exec    an exec after the file resource of its command (an absolute path) and cwd,
//                    and after the user and group it runs as
//   file  -> svc     a svc after its unit file (/etc/systemd/system/NAME.service)
//   file  -> line    a line after the file it edits
//   pkg   -> svc     a svc after the package of the same name
// An autoedge belongs to the resource after it: Meta autoedge false on that resource turns its
// autoedges off. Both ends must be in the graph; an autoedge that reverses an explicit edge is
// not added (the user's edge wins).
#pragma once

#include "frontends/graph_spec.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::agent::engine {

// wanted: "kind[name]" -> spec; enabled: "kind[name]" -> its Meta autoedge.
// explicit_edges: (from, to) written in the graph. Returns (from, to) pairs to add.
std::vector<std::pair<std::string, std::string>> autoedges(
    const std::map<std::string, const frontends::ResourceSpec*>& wanted,
    const std::map<std::string, bool>& enabled,
    const std::vector<std::pair<std::string, std::string>>& explicit_edges);

}  // namespace mgmt::agent::engine
