// accounts.h: looking up users and groups through NSS (getpwnam_r, getgrnam_r,
// getgrouplist), for the user and group resources. Thread-safe (reentrant calls).
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>

namespace mgmt::agent::resources {

struct UserEntry {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

// nullopt when there is no such group / user.
std::optional<gid_t> lookup_group(const std::string& name);
std::optional<UserEntry> lookup_user(const std::string& name);
// The gids of the supplementary groups `user` is in (without its primary group).
std::set<gid_t> supplementary_groups(const std::string& user, gid_t primary);

}  // namespace mgmt::agent::resources
