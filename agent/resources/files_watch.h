// files_watch.h: watches of system files for resources that manage accounts, hostnames and
// packages (/etc/passwd, /etc/group, /etc/hostname, /var/lib/dpkg/status): one InotifyWatch
// per file, all calling the same callback, stopped together. Tools like useradd and dpkg
// replace these files by rename, which the directory watch sees.
#pragma once

#include "agent/resources/inotify_watch.h"

#include <memory>
#include <string>
#include <vector>

namespace mgmt::agent::resources {

class FilesWatch final : public Watch {
 public:
  FilesWatch(const std::vector<std::string>& paths, const std::function<void()>& on_change) {
    for (const auto& p : paths) {
      const auto slash = p.rfind('/');
      watches_.push_back(
          std::make_unique<InotifyWatch>(p.substr(0, slash), p.substr(slash + 1), on_change));
    }
  }

 private:
  std::vector<std::unique_ptr<InotifyWatch>> watches_;
};

}  // namespace mgmt::agent::resources
