// kv.cpp: the kv resource: a string in the cluster store, shared by every host (key
// /_mgmt/strings/KEY), or one per host with `mapped` (/_mgmt/strmap/KEY/HOSTNAME). `key`
// defaults to the resource's name. A value sets the key; no value (absent or null) deletes it.
// `skiplessthan` changes the key only to a greater value (numbers compared as numbers, when
// both are). The key is watched in the store: another writer's change is put back at once.
#include "agent/resources/kinds.h"
#include "agent/resources/services.h"
#include "common/log.h"

#include <cstdlib>

namespace mgmt::agent::resources {
namespace {

std::optional<double> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return d;
}

class Kv final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "kv[" + spec.name + "]";
    key_ = spec.params.value("key", spec.name);
    if (key_.empty()) return fail(Code::invalid_argument, self + ": field \"key\" is empty");
    if (auto v = spec.params.find("value"); v != spec.params.end() && !v->is_null()) {
      value_ = v->get<std::string>();
    }
    mapped_ = spec.params.value("mapped", false);
    skip_less_than_ = spec.params.value("skiplessthan", false);
    return ok();
  }

  void bind(const Services& services) override { services_ = services; }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    if (!services_.store) return nullptr;
    return services_.store->watch(store_key(), std::move(on_event));
  }

  Result<bool> check_apply(bool apply) override {
    if (!services_.store) {
      return fail(Code::failed_precondition,
                  id() + ": no cluster store on this agent; kv needs `mgmt run` with a store "
                         "(its own or --seeds)");
    }
    const std::string key = store_key();
    auto have = services_.store->get(key);
    if (!have) return fail(Code::unavailable, id() + ": " + have.error().message());
    if (!value_) {
      if (!have->has_value()) return true;
      if (!apply) return false;
      log::get("engine")->info("{}: resource: deleting {}", id(), key);
      if (auto d = services_.store->del(key); !d) {
        return fail(Code::unavailable, id() + ": " + d.error().message());
      }
      return false;
    }
    if (have->has_value()) {
      if (**have == *value_) return true;
      if (skip_less_than_ && !greater(*value_, **have)) return true;
    }
    if (!apply) return false;
    log::get("engine")->info("{}: resource: setting {} to {}", id(), key, *value_);
    if (auto p = services_.store->put(key, *value_); !p) {
      return fail(Code::unavailable, id() + ": " + p.error().message());
    }
    return false;
  }

 private:
  static bool greater(const std::string& a, const std::string& b) {
    auto x = number(a);
    auto y = number(b);
    if (x && y) return *x > *y;
    return a > b;
  }

  std::string store_key() const {
    if (mapped_) return "/_mgmt/strmap/" + key_ + "/" + services_.hostname;
    return "/_mgmt/strings/" + key_;
  }

  std::string key_;
  std::optional<std::string> value_;
  bool mapped_ = false;
  bool skip_less_than_ = false;
  Services services_;
};

}  // namespace

std::unique_ptr<Resource> make_kv() { return std::make_unique<Kv>(); }

}  // namespace mgmt::agent::resources
