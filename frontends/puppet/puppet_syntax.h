// puppet_syntax.h: writing Puppet code and shell words back out: a catalog resource as the
// manifest line that declares it (for resources puppet itself applies, catalog_translation.h),
// and a string quoted for /bin/sh.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mgmt::frontends::puppet {

// A JSON value from a catalog as a Puppet literal: strings single-quoted, null as undef,
// arrays and hashes nested.
std::string puppet_literal(const nlohmann::json& value);

// `type { 'title': key => value, ... }` for a catalog resource (its "type", "title" and
// "parameters"), without the metaparameters the graph carries (before, require, notify,
// subscribe, noop) or that one resource applied alone cannot resolve (schedule, stage, alias).
std::string puppet_resource(const nlohmann::json& resource);

// One word for /bin/sh: single-quoted, a ' inside written as '\''.
std::string sh_quote(const std::string& word);

}  // namespace mgmt::frontends::puppet
