// store_access.cpp: see store_access.h.
#include "agent/run/store_access.h"

#include "common/log.h"

namespace mgmt::agent::run {
namespace {

// Keeps the client's watch alive for as long as the resource's watch lives.
class KeyWatch final : public resources::Watch {
 public:
  explicit KeyWatch(std::unique_ptr<store::client::Watch> w) : watch_(std::move(w)) {}

 private:
  std::unique_ptr<store::client::Watch> watch_;
};

}  // namespace

Result<std::optional<std::string>> EtcdStoreAccess::get(const std::string& key) {
  auto r = client_.get(key);
  if (!r) return fail(r.error());
  if (r->kvs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r->kvs.front().value);
}

Result<void> EtcdStoreAccess::put(const std::string& key, const std::string& value) {
  auto r = client_.put(key, value);
  if (!r) return fail(r.error());
  return ok();
}

Result<void> EtcdStoreAccess::del(const std::string& key) {
  auto r = client_.del(key);
  if (!r) return fail(r.error());
  return ok();
}

Result<std::map<std::string, std::string>> EtcdStoreAccess::get_prefix(
    const std::string& prefix) {
  store::client::GetOptions options;
  options.prefix = true;
  auto r = client_.get(prefix, options);
  if (!r) return fail(r.error());
  std::map<std::string, std::string> out;
  for (const auto& kv : r->kvs) out[kv.key] = kv.value;
  return out;
}

std::unique_ptr<resources::Watch> EtcdStoreAccess::watch_prefix(
    const std::string& prefix, std::function<void()> on_change) {
  auto w = client_.watch(
      prefix, true, 0,
      [on_change](const std::vector<store::client::WatchEvent>&) { on_change(); },
      [prefix](const Error& e) {
        log::get("lang")->warn("watch of {} in the store ended: {}", prefix, e.message());
      });
  if (!w) return nullptr;
  return std::make_unique<KeyWatch>(std::move(*w));
}

std::unique_ptr<resources::Watch> EtcdStoreAccess::watch(const std::string& key,
                                                         std::function<void()> on_change) {
  auto w = client_.watch(
      key, false, 0, [on_change](const std::vector<store::client::WatchEvent>&) { on_change(); },
      [key](const Error& e) {
        log::get("engine")->warn("watch of {} in the store ended: {}", key, e.message());
      });
  if (!w) return nullptr;
  return std::make_unique<KeyWatch>(std::move(*w));
}

}  // namespace mgmt::agent::run
