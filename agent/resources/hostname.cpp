// hostname.cpp: the hostname resource: the machine's hostnames as systemd names them. `hostname`
// sets all three unless one is given on its own: static (/etc/hostname), transient (the
// kernel's, sethostname) and pretty (PRETTY_HOSTNAME in /etc/machine-info). Files are rewritten
// atomically; /etc/hostname and /etc/machine-info are watched. Needs root (CAP_SYS_ADMIN for
// the kernel's name) to change anything.
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "agent/resources/text_file.h"
#include "common/log.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>

namespace mgmt::agent::resources {
namespace {

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

// PRETTY_HOSTNAME from machine-info text (shell-style assignment, maybe quoted).
std::string pretty_of(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_HOSTNAME=", 0) != 0) continue;
    std::string v = line.substr(16);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    return v;
  }
  return {};
}

std::string with_pretty(const std::string& text, const std::string& pretty) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_HOSTNAME=", 0) != 0) out += line + "\n";
  }
  return out + "PRETTY_HOSTNAME=\"" + pretty + "\"\n";
}

class Hostname final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const auto& p = spec.params;
    const std::string all = p.value("hostname", std::string());
    static_ = p.value("static_hostname", all);
    transient_ = p.value("transient_hostname", all);
    pretty_ = p.value("pretty_hostname", all);
    for (const std::string* name : {&static_, &transient_}) {
      if (name->size() > 64 || name->find_first_of(" \t\n/") != std::string::npos) {
        return fail(Code::invalid_argument,
                    "hostname[" + spec.name + "]: \"" + *name + "\" is not a valid hostname "
                    "(at most 64 characters, no spaces or slashes)");
      }
    }
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<FilesWatch>(
        std::vector<std::string>{"/etc/hostname", "/etc/machine-info"}, on_event);
  }

  Result<bool> check_apply(bool apply) override {
    bool in_state = true;
    if (!static_.empty()) {
      auto text = read_text_file("/etc/hostname");
      if (!text) return fail(Code::unavailable, id() + ": " + text.error().message());
      if (first_line(text->value_or("")) != static_) {
        in_state = false;
        if (apply) {
          log::get("engine")->info("{}: resource: static hostname {}", id(), static_);
          if (auto w = write_text_file_atomic("/etc/hostname", static_ + "\n"); !w) {
            return fail(Code::unavailable, id() + ": " + w.error().message());
          }
        }
      }
    }
    if (!transient_.empty()) {
      char name[HOST_NAME_MAX + 1] = {};
      ::gethostname(name, sizeof(name) - 1);
      if (transient_ != name) {
        in_state = false;
        if (apply) {
          log::get("engine")->info("{}: resource: transient hostname {}", id(), transient_);
          if (::sethostname(transient_.data(), transient_.size()) != 0) {
            return fail(Code::permission_denied,
                        id() + ": cannot set the kernel's hostname (" + std::strerror(errno) +
                            "); run the agent as root");
          }
        }
      }
    }
    if (!pretty_.empty()) {
      auto text = read_text_file("/etc/machine-info");
      if (!text) return fail(Code::unavailable, id() + ": " + text.error().message());
      if (pretty_of(text->value_or("")) != pretty_) {
        in_state = false;
        if (apply) {
          log::get("engine")->info("{}: resource: pretty hostname {}", id(), pretty_);
          if (auto w = write_text_file_atomic("/etc/machine-info",
                                              with_pretty(text->value_or(""), pretty_));
              !w) {
            return fail(Code::unavailable, id() + ": " + w.error().message());
          }
        }
      }
    }
    return in_state;
  }

 private:
  std::string static_;
  std::string transient_;
  std::string pretty_;
};

}  // namespace

std::unique_ptr<Resource> make_hostname() { return std::make_unique<Hostname>(); }

}  // namespace mgmt::agent::resources
