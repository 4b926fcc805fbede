// deploy_watcher.cpp: see deploy_watcher.h.
#include "agent/deploy/deploy_watcher.h"

#include "common/log.h"
#include "common/utf8.h"

#include <malloc.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace mgmt::agent::deploy {

DeployWatcher::DeployWatcher(store::client::EtcdClient& client, std::string work_dir,
                             Apply apply)
    : client_(client), work_dir_(std::move(work_dir)), apply_(std::move(apply)) {}

DeployWatcher::~DeployWatcher() { stop(); }

void DeployWatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  watch_.reset();  // joins the watch's thread: a load under way finishes first
}

Result<std::unique_ptr<DeployWatcher>> DeployWatcher::start(store::client::EtcdClient& client,
                                                            std::string work_dir, Apply apply) {
  std::unique_ptr<DeployWatcher> w(new DeployWatcher(client, std::move(work_dir),
                                                     std::move(apply)));
  auto current = client.get(kLatestKey);
  if (!current) return fail(current.error());
  w->consider_value(current->kvs);
  DeployWatcher* self = w.get();
  store::client::WatchCallbacks callbacks;
  callbacks.on_events = [self](const std::vector<store::client::WatchEvent>& events) {
    for (const auto& e : events) {
      if (!e.is_delete) self->consider_value({e.kv});
    }
  };
  callbacks.on_notice = [](const std::string& notice) { log::get("deploy")->info("{}", notice); };
  // Away from the store, the watch missed changes the store no longer has: read the newest.
  callbacks.on_gap = [self](const Error& e) {
    log::get("deploy")->warn("{}; reading the newest deploy again", e.message());
    self->consider_latest();
  };
  callbacks.on_error = [](const Error& e) {
    log::get("deploy")->error("{}; new deploys are not seen until the agent restarts",
                              e.message());
  };
  auto watch = client.watch(kLatestKey, false, current->revision + 1, std::move(callbacks));
  if (!watch) return fail(watch.error());
  w->watch_ = std::move(*watch);
  return w;
}

void DeployWatcher::consider_value(const std::vector<store::client::KeyValue>& latest) {
  if (latest.empty()) return;
  const std::string& text = latest.front().value;
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) {
    log::get("deploy")->error("{} holds \"{}\", not a deploy id; deploy again to replace it",
                              kLatestKey, escape_bytes(text));
    return;
  }
  consider(id);
}

void DeployWatcher::consider_latest() {
  // A store that cannot answer right now (an election, a member still catching up) is asked
  // again for a while, as for a deploy's payload.
  auto current = client_.get(kLatestKey);
  for (int attempt = 1; !current && current.error().code() == Code::unavailable && attempt <= 30;
       ++attempt) {
    std::unique_lock lock(mutex_);
    if (stopping_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) return;
    lock.unlock();
    current = client_.get(kLatestKey);
  }
  if (!current) {
    log::get("deploy")->error("cannot read the newest deploy ({}); it is loaded with the next one",
                              current.error().message());
    return;
  }
  consider_value(current->kvs);
}

int64_t DeployWatcher::loaded() const {
  std::lock_guard lock(mutex_);
  return loaded_;
}

int64_t DeployWatcher::attempted() const {
  std::lock_guard lock(mutex_);
  return attempted_;
}

std::string DeployWatcher::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void DeployWatcher::consider(int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;  // an agent that stops loads no more deploys
    if (id <= attempted_) return;  // never go back, never retry a broken one by itself
    attempted_ = id;
  }
  // A store that cannot answer right now (an election, a member still catching up) is retried
  // for a while; a broken deploy is not.
  auto loaded = load_safely(id);
  for (int attempt = 1; !loaded && loaded.error().code() == Code::unavailable && attempt <= 30;
       ++attempt) {
    log::get("deploy")->info("deploy {} not loaded yet ({}); retrying", id,
                             loaded.error().message());
    std::unique_lock lock(mutex_);
    if (stopping_cv_.wait_for(lock, std::chrono::seconds(1),
                              [&] { return stopping_ || attempted_ != id; })) {
      return;  // stopping, or a newer deploy arrived and takes over
    }
    lock.unlock();
    loaded = load_safely(id);
  }
  std::lock_guard lock(mutex_);
  if (loaded) {
    loaded_ = id;
    last_error_.clear();
  } else {
    last_error_ = loaded.error().message();
    log::get("deploy")->error("deploy {} not loaded: {}; still running deploy {}", id,
                              last_error_, loaded_);
  }
}

// A deploy that throws while it loads (a library's exception in a frontend or the engine) is a
// deploy not loaded, named with the exception's words, not an agent stopped.
Result<void> DeployWatcher::load_safely(int64_t id) {
  try {
    return load(id);
  } catch (const std::exception& e) {
    return fail(Code::internal, std::string("loading it failed: ") + e.what());
  }
}

Result<void> DeployWatcher::load(int64_t id) {
  auto got = client_.get(payload_key(id));
  if (!got) return fail(got.error());
  if (got->kvs.empty()) return fail(Code::not_found, "its payload is missing from the store");
  auto payload = decode_payload(got->kvs.front().value);
  if (!payload) return fail(payload.error());
  std::string commit = payload->commit.empty() ? "no commit" : "commit " +
                                                                   payload->commit.substr(0, 7);
  log::get("deploy")->info("loading deploy {} ({}, {}{})", id, payload->frontend, commit,
                           payload->dirty ? ", dirty" : "");
  namespace fs = std::filesystem;
  fs::path dir = fs::path(work_dir_) / std::to_string(id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Code::internal, "cannot create " + dir.string() + ": " + ec.message());
  auto files = client_.get(fs_prefix(id), store::client::GetOptions{true, false, 0, 0});
  if (!files) return fail(files.error());
  for (const auto& kv : files->kvs) {
    fs::path relative = fs::path(kv.key.substr(fs_prefix(id).size())).lexically_normal();
    if (relative.empty() || relative.is_absolute() || *relative.begin() == "..") {
      return fail(Code::invalid_argument, "it names a file outside its directory: " + kv.key);
    }
    fs::create_directories((dir / relative).parent_path(), ec);
    std::ofstream out(dir / relative, std::ios::binary | std::ios::trunc);
    out << kv.value;
    if (!out) return fail(Code::internal, "cannot write " + (dir / relative).string());
  }
  auto applied = apply_(*payload, dir.string());
  // Parsing a large deploy (a yaml or mcl tree of every resource) peaks well above what the
  // running graph keeps; give those freed pages back instead of holding them for the agent's
  // lifetime (glibc keeps them by default).
  ::malloc_trim(0);
  return applied;
}

}  // namespace mgmt::agent::deploy
