// git_chain.cpp: libgit2 calls for the deploy chain; see git_chain.h.
#include "agent/deploy/git_chain.h"

#include <git2.h>

#include <filesystem>
#include <memory>
#include <mutex>

namespace mgmt::agent::deploy {
namespace {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

std::string last_error() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

using Repo = std::unique_ptr<git_repository, decltype(&git_repository_free)>;

}  // namespace

Result<std::optional<GitState>> git_state(const std::string& code_path) {
  init_once();
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(code_path, ec);
  std::filesystem::path dir = std::filesystem::is_directory(path, ec) ? path : path.parent_path();
  git_buf found = GIT_BUF_INIT;
  if (git_repository_discover(&found, dir.c_str(), 0, nullptr) != 0) {
    return std::optional<GitState>();
  }
  git_repository* raw = nullptr;
  int opened = git_repository_open(&raw, found.ptr);
  git_buf_dispose(&found);
  if (opened != 0) return fail(Code::internal, "cannot open the git repository: " + last_error());
  Repo repo(raw, git_repository_free);
  if (git_repository_is_bare(repo.get())) return std::optional<GitState>();
  GitState state;
  state.repository = git_repository_workdir(repo.get());
  git_oid head;
  if (git_reference_name_to_id(&head, repo.get(), "HEAD") == 0) {
    char text[GIT_OID_HEXSZ + 1];
    git_oid_tostr(text, sizeof(text), &head);
    state.commit = text;
  }
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED;
  git_status_list* list = nullptr;
  if (git_status_list_new(&list, repo.get(), &options) == 0) {
    state.dirty = git_status_list_entrycount(list) > 0;
    git_status_list_free(list);
  }
  return std::optional<GitState>(state);
}

Result<bool> is_ancestor_or_same(const std::string& repository, const std::string& ancestor,
                                 const std::string& commit) {
  init_once();
  if (ancestor == commit) return true;
  git_repository* raw = nullptr;
  if (git_repository_open(&raw, repository.c_str()) != 0) {
    return fail(Code::internal, "cannot open the git repository " + repository + ": " +
                                    last_error());
  }
  Repo repo(raw, git_repository_free);
  git_oid a;
  git_oid c;
  if (git_oid_fromstr(&a, ancestor.c_str()) != 0 || git_oid_fromstr(&c, commit.c_str()) != 0) {
    return false;
  }
  git_commit* probe = nullptr;
  if (git_commit_lookup(&probe, repo.get(), &a) != 0) return false;  // not in this repository
  git_commit_free(probe);
  return git_graph_descendant_of(repo.get(), &c, &a) == 1;
}

}  // namespace mgmt::agent::deploy
