// accounts.cpp: see accounts.h.
#include "agent/resources/accounts.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

namespace mgmt::agent::resources {

std::optional<gid_t> lookup_group(const std::string& name) {
  struct group g {};
  struct group* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getgrnam_r(name.c_str(), &g, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->gr_gid;
}

std::optional<UserEntry> lookup_user(const std::string& name) {
  struct passwd p {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &p, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return UserEntry{found->pw_uid, found->pw_gid, found->pw_dir, found->pw_shell};
}

std::set<gid_t> supplementary_groups(const std::string& user, gid_t primary) {
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  if (::getgrouplist(user.c_str(), primary, gids.data(), &count) < 0) {
    gids.resize(static_cast<std::size_t>(count));
    ::getgrouplist(user.c_str(), primary, gids.data(), &count);
  }
  gids.resize(static_cast<std::size_t>(count));
  std::set<gid_t> out(gids.begin(), gids.end());
  out.erase(primary);
  return out;
}

}  // namespace mgmt::agent::resources
