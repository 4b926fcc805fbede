// git_chain.h: what git says about the code being deployed. The repository is found from the
// code's own directory (never the current directory). A deploy continues the chain when the
// running deploy's commit is the new commit or one of its ancestors (a fast-forward).
// Thread-safety: each call opens the repository itself; libgit2 is initialised once.
#pragma once

#include "common/result.h"

#include <optional>
#include <string>

namespace mgmt::agent::deploy {

struct GitState {
  std::string repository;  // the work tree's top directory
  std::string commit;      // HEAD's full id; empty for a repository without commits
  bool dirty = false;      // changes (staged, unstaged or untracked) not in HEAD
};

// Nothing when `code_path` (a file or directory) is not inside a git work tree.
[[nodiscard]] Result<std::optional<GitState>> git_state(const std::string& code_path);

// Whether `ancestor` is `commit` or one of its ancestors in the repository at `repository`.
// An unknown commit is not an ancestor.
[[nodiscard]] Result<bool> is_ancestor_or_same(const std::string& repository,
                                               const std::string& ancestor,
                                               const std::string& commit);

}  // namespace mgmt::agent::deploy
