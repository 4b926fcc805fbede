// kv_test.cpp: the kv resource over an in-memory store (the agent's real store is tested in
// test/agent/run/kv_agent_test.cpp): shared and per-host keys, deletion, skiplessthan, noop,
// a clear error without a store, and a change by another writer undone through the watch.
#include "agent/resources/services.h"
#include "test/agent/engine/resource_maker.h"

#include <map>
#include <mutex>

using mgmt::test::EngineHarness;
using mgmt::test::make_resource;
using mgmt::test::resource;
namespace res = mgmt::agent::resources;

namespace {

class MemoryStore final : public res::StoreAccess {
 public:
  mgmt::Result<std::optional<std::string>> get(const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto it = data_.find(key);
    return it == data_.end() ? std::optional<std::string>() : it->second;
  }
  mgmt::Result<void> put(const std::string& key, const std::string& value) override {
    set(key, value);
    return mgmt::ok();
  }
  mgmt::Result<void> del(const std::string& key) override {
    set(key, std::nullopt);
    return mgmt::ok();
  }
  mgmt::Result<void> put_expiring(const std::string& key, const std::string& value, int64_t,
                                  bool) override {
    set(key, value);
    return mgmt::ok();
  }
  std::unique_ptr<res::Watch> watch(const std::string& key,
                                    std::function<void()> on_change) override {
    std::lock_guard lock(mutex_);
    watchers_[key] = std::move(on_change);
    return std::make_unique<res::Watch>();
  }
  // Another writer: the watcher of the key hears of it.
  void set(const std::string& key, std::optional<std::string> value) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mutex_);
      if (value) {
        data_[key] = *value;
      } else {
        data_.erase(key);
      }
      if (auto it = watchers_.find(key); it != watchers_.end()) notify = it->second;
    }
    if (notify) notify();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> data_;
  std::map<std::string, std::function<void()>> watchers_;
};

std::unique_ptr<res::Resource> kv(const std::shared_ptr<MemoryStore>& store,
                                  nlohmann::json params, const std::string& name = "k") {
  auto r = make_resource(resource("kv", name, std::move(params)));
  r->bind(res::Services{store, "h1"});
  return r;
}

}  // namespace

TEST_CASE("kv: sets a shared or per-host key, deletes without a value, noop changes nothing",
          "[kv]") {
  auto store = std::make_shared<MemoryStore>();
  auto noop = kv(store, {{"value", "1"}})->check_apply(false);
  REQUIRE(noop);
  CHECK_FALSE(*noop);
  CHECK_FALSE(*store->get("/_mgmt/strings/k"));
  REQUIRE(kv(store, {{"value", "1"}})->check_apply(true));
  CHECK(*store->get("/_mgmt/strings/k") == std::optional<std::string>("1"));
  REQUIRE(kv(store, {{"value", "a"}, {"mapped", true}})->check_apply(true));
  CHECK(*store->get("/_mgmt/strmap/k/h1") == std::optional<std::string>("a"));
  auto in_state = kv(store, {{"value", "1"}})->check_apply(true);
  REQUIRE(in_state);
  CHECK(*in_state);
  REQUIRE(kv(store, {})->check_apply(true));
  CHECK_FALSE(*store->get("/_mgmt/strings/k"));
}

TEST_CASE("kv: skiplessthan only ever raises the value", "[kv]") {
  auto store = std::make_shared<MemoryStore>();
  store->set("/_mgmt/strings/k", "10");
  auto lower = kv(store, {{"value", "9"}, {"skiplessthan", true}})->check_apply(true);
  REQUIRE(lower);
  CHECK(*lower);
  CHECK(*store->get("/_mgmt/strings/k") == std::optional<std::string>("10"));
  REQUIRE(kv(store, {{"value", "11"}, {"skiplessthan", true}})->check_apply(true));
  CHECK(*store->get("/_mgmt/strings/k") == std::optional<std::string>("11"));
}

TEST_CASE("kv: without a store the check says what kv needs", "[kv]") {
  auto r = make_resource(resource("kv", "k", {{"value", "1"}}));
  auto checked = r->check_apply(true);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().message() ==
        "kv[k]: no cluster store on this agent; kv needs `mgmt run` with a store (its own or "
        "--seeds)");
}

TEST_CASE("kv: the engine puts the value back when another writer changes it", "[kv][engine]") {
  auto store = std::make_shared<MemoryStore>();
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("kv", "colour", {{"value", "blue"}})};
  h.services()->store = store;
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  CHECK(*store->get("/_mgmt/strings/colour") == std::optional<std::string>("blue"));
  store->set("/_mgmt/strings/colour", "red");
  while (*store->get("/_mgmt/strings/colour") != std::optional<std::string>("blue")) {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
}
