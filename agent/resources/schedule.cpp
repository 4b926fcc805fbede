// schedule.cpp: the schedule resource: this host asks to be in a namespace's scheduled set,
// which lang code reads with world.schedule(NAMESPACE) on every host. The request is the key
// /_mgmt/schedule/NAMESPACE/HOSTNAME = {"strategy":"rr","max":N} in the cluster store, under a
// lease this agent keeps alive (10 s, or `ttl` s, after which a dead host leaves the set), or
// with `persist`, under none (the host stays in the set until the resource is removed).
// `withdraw` removes the request. The set (strategy "rr", the only one): the requesting hosts
// in the order they asked (the key's create revision), the first `max` of them (the earliest
// request's max, default 1); a host that leaves and comes back asks anew and goes last, so the
// set does not flap. Removing the resource withdraws the request (unless persist or ttl).
#include "agent/resources/kinds.h"
#include "agent/resources/services.h"
#include "common/log.h"

#include <nlohmann/json.hpp>

namespace mgmt::agent::resources {
namespace {

class Schedule final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "schedule[" + spec.name + "]";
    ns_ = spec.params.value("namespace", std::string());
    if (ns_.empty()) ns_ = spec.name;
    if (ns_.empty() || ns_.find('/') != std::string::npos) {
      return fail(Code::invalid_argument,
                  self + ": the namespace must be a non-empty name without '/'");
    }
    auto given = [&](const char* field) {
      auto it = spec.params.find(field);
      return it != spec.params.end() && !it->is_null();
    };
    const std::string strategy = spec.params.value("strategy", std::string("rr"));
    if (strategy != "rr" && !strategy.empty()) {
      return fail(Code::invalid_argument, self + ": unknown strategy \"" + strategy +
                                              "\"; the strategy is \"rr\" (round robin)");
    }
    max_ = spec.params.value("max", int64_t{1});
    persist_ = spec.params.value("persist", false);
    ttl_ = spec.params.value("ttl", int64_t{0});
    withdraw_ = spec.params.value("withdraw", false);
    if (persist_ && ttl_ > 0) {
      return fail(Code::invalid_argument, self + ": can't combine persist with ttl; keep one");
    }
    if (ttl_ < 0) return fail(Code::invalid_argument, self + ": ttl must not be negative");
    if (withdraw_ && (given("strategy") || given("max") || persist_ || given("ttl"))) {
      return fail(Code::invalid_argument,
                  self + ": withdraw takes no strategy, max, persist or ttl; remove them");
    }
    return ok();
  }

  void bind(const Services& services) override { services_ = services; }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    if (!services_.store) return nullptr;
    return services_.store->watch(key(), std::move(on_event));
  }

  Result<bool> check_apply(bool apply) override {
    if (!services_.store) {
      return fail(Code::failed_precondition,
                  id() + ": no cluster store on this agent; schedule needs `mgmt run` with a "
                         "store (its own or --seeds)");
    }
    auto have = services_.store->get(key());
    if (!have) return fail(Code::unavailable, id() + ": " + have.error().message());
    if (withdraw_) {
      if (!have->has_value()) return true;
      if (!apply) return false;
      log::get("engine")->info("{}: resource: withdrawn from {}", id(), ns_);
      if (auto d = services_.store->del(key()); !d) {
        return fail(Code::unavailable, id() + ": " + d.error().message());
      }
      return false;
    }
    const std::string want = request();
    if (have->has_value() && **have == want) return true;
    if (!apply) return false;
    log::get("engine")->info("{}: resource: scheduled in {}", id(), ns_);
    auto put = persist_ ? services_.store->put(key(), want)
                        : services_.store->put_expiring(key(), want, ttl_ > 0 ? ttl_ : 10,
                                                        ttl_ > 0);
    if (!put) return fail(Code::unavailable, id() + ": " + put.error().message());
    return false;
  }

  void cleanup() override {
    if (withdraw_ || persist_ || ttl_ > 0 || !services_.store) return;
    (void)services_.store->del(key());
  }

 private:
  std::string key() const { return "/_mgmt/schedule/" + ns_ + "/" + services_.hostname; }
  std::string request() const {
    return nlohmann::json{{"strategy", "rr"}, {"max", max_}}.dump();
  }

  std::string ns_;
  int64_t max_ = 1;
  bool persist_ = false;
  int64_t ttl_ = 0;
  bool withdraw_ = false;
  Services services_;
};

}  // namespace

std::unique_ptr<Resource> make_schedule() { return std::make_unique<Schedule>(); }

}  // namespace mgmt::agent::resources
