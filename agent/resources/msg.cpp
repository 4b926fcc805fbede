// msg.cpp: the msg resource: sends its body once when it first converges and again on every
// refresh: always to the agent's log (`engine: msg[NAME]: resource: Body: ...`), to systemd's
// journal with `journal` (with `priority` and extra `fields`, as MGMT_* style journal fields
// upper-cased), and to syslog with `syslog`. Priorities are the syslog names: emerg, alert,
// crit, err, warning, notice, info (default), debug. A journal that cannot be reached is an
// error naming journald; nothing crashes.
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace mgmt::agent::resources {
namespace {

const std::map<std::string, int>& priorities() {
  static const std::map<std::string, int> p = {
      {"emerg", LOG_EMERG}, {"alert", LOG_ALERT},   {"crit", LOG_CRIT}, {"err", LOG_ERR},
      {"warning", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO},
      {"debug", LOG_DEBUG}};
  return p;
}

class Msg final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "msg[" + spec.name + "]";
    name_ = spec.name;
    body_ = spec.params.value("body", std::string());
    std::string priority = spec.params.value("priority", std::string("info"));
    std::transform(priority.begin(), priority.end(), priority.begin(), ::tolower);
    if (priority.empty()) priority = "info";
    auto p = priorities().find(priority);
    if (p == priorities().end()) {
      return fail(Code::invalid_argument,
                  self + ": field \"priority\" must be one of emerg, alert, crit, err, "
                         "warning, notice, info, debug; not \"" + priority + "\"");
    }
    priority_ = p->second;
    if (auto f = spec.params.find("fields"); f != spec.params.end() && f->is_object()) {
      for (const auto& [k, v] : f->items()) {
        std::string key = k;
        std::transform(key.begin(), key.end(), key.begin(), ::toupper);
        if (key.empty() || key[0] == '_' ||
            !std::all_of(key.begin(), key.end(), [](char c) {
              return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            })) {
          return fail(Code::invalid_argument,
                      self + ": journal field \"" + k + "\" must be letters, digits and _, "
                             "not starting with _");
        }
        fields_[key] = v.get<std::string>();
      }
    }
    journal_ = spec.params.value("journal", false);
    syslog_ = spec.params.value("syslog", false);
    return ok();
  }

  Result<bool> check_apply(bool apply) override {
    if (sent_ && !refresh()) return true;
    if (!apply) return false;
    log::get("engine")->info("msg[{}]: resource: Body: {}", name_, body_);
    if (journal_) {
      // libsystemd drops a message silently when journald's socket is missing (it returns 0
      // for ENOENT): without this check the message would be lost and the resource in state.
      if (::access(kJournalSocket, F_OK) != 0) {
        return fail(Code::unavailable, id() + ": cannot write to the journal (no socket at " +
                                           kJournalSocket + "); is systemd-journald running?");
      }
      std::vector<std::string> items = {"MESSAGE=" + body_,
                                        "PRIORITY=" + std::to_string(priority_),
                                        "SYSLOG_IDENTIFIER=mgmt"};
      for (const auto& [k, v] : fields_) items.push_back(k + "=" + v);
      std::vector<iovec> iov;
      for (auto& item : items) iov.push_back({item.data(), item.size()});
      const int r = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
      if (r < 0) {
        return fail(Code::unavailable, id() + ": cannot write to the journal (" +
                                           std::strerror(-r) + "); is systemd-journald "
                                           "running?");
      }
    }
    if (syslog_) ::syslog(priority_, "%s", body_.c_str());
    sent_ = true;
    return false;
  }

 private:
  static constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
  std::string name_;
  std::string body_;
  int priority_ = LOG_INFO;
  std::map<std::string, std::string> fields_;
  bool journal_ = false;
  bool syslog_ = false;
  bool sent_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_msg() { return std::make_unique<Msg>(); }

}  // namespace mgmt::agent::resources
