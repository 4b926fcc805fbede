// catalog_translation.h: a compiled Puppet catalog (catalog_compiler.h) as a GraphSpec.
//
// Resources puppet's types and mgmt's share are translated to the native resource, when every
// attribute they set has a native form:
//   File    -> file  (ensure file|present|directory|absent|link, content, source (a local
//                     path; the compiler turns puppet:///modules/ ones into one), target, mode
//                     (octal), owner, group, force; a directory with recurse and a source is
//                     a tree copied from it, purge included)
//   Exec    -> exec  (command through /bin/sh, path, environment, cwd, user, group, timeout,
//                     creates, onlyif -> ifcmd, unless -> nifcmd, refreshonly -> refresh_only)
//   Notify  -> msg   (message, else the title)
//   Package -> pkg   (ensure present|installed|absent|purged|latest)
//   Service -> svc   (ensure running|stopped, enable true|false; a refresh reloads or restarts)
//   User    -> user  (ensure present|absent, uid, gid, home, shell)
//   Group   -> group (ensure present|absent, gid)
//   Mount   -> mount (ensure mounted|absent, device, fstype, options, dump, pass; /etc/fstab)
// Attributes that change nothing mgmt does (backup, loglevel, tag, alias, show_diff, ...) are
// dropped. Any other resource, or one with an attribute without a native form, is applied by
// puppet itself: an exec that runs `puppet apply` of that one resource, guarded by the same
// apply with --noop (which says whether anything would change). Each such fallback is named
// in `notes`, with the reason, so nothing a manifest asks for is silently lost.
//
// Classes, defined types and stages are containers, not vertices: a relationship with one
// (before/require/notify/subscribe, `->`, `~>`) holds for every resource it contains,
// recursively. A container without resources that takes part in a relationship becomes a
// noop vertex named after it (an empty class `mgmt_x` gives noop "mgmt_x", which langpuppet
// merges with the mcl side's noop "puppet_x"). notify and subscribe give notify edges.
// Exported resources (@@) are not applied on this host, as under `puppet apply`.
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mgmt::frontends::puppet {

struct TranslateOptions {
  std::string manifest_name;  // origins read "<manifest_name> line N"
  std::string puppet_conf;    // given to the fallback's `puppet apply` (--config), may be empty
  // Given to the fallback's `puppet apply` (--basemodulepath) when the deploy has modules of
  // its own, so that a type from one of them (stdlib's file_line) is known there; may be empty.
  std::string modulepath;
};

struct Translated {
  GraphSpec graph;
  std::vector<std::string> notes;  // one line per resource puppet applies itself, and why
};

[[nodiscard]] Result<Translated> translate_catalog(const nlohmann::json& catalog,
                                                   const TranslateOptions& options);

}  // namespace mgmt::frontends::puppet
