// line.cpp: the line resource: one line (or several, separated by newlines) present in or
// absent from a text file, leaving the rest of the file as it is. `trim` compares lines without
// surrounding whitespace. An added line goes at the end (a newline is added first when the
// file does not end with one); a missing file is created (mode 0644) when the line must exist.
// Empty content asks for nothing. The file is rewritten atomically (text_file.h) and watched
// with inotify: someone removing the line gets it back at once.
#include "agent/resources/inotify_watch.h"
#include "agent/resources/kinds.h"
#include "agent/resources/text_file.h"
#include "common/log.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

namespace mgmt::agent::resources {
namespace {

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class Line final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "line[" + spec.name + "]";
    file_ = spec.params.value("file", std::string());
    if (file_.empty() || file_[0] != '/') {
      return fail(Code::invalid_argument,
                  self + ": field \"file\" must be an absolute path, not \"" + file_ + "\"");
    }
    state_ = spec.params.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, self + ": field \"state\" must be \"exists\" or "
                                                 "\"absent\", not \"" + state_ + "\"");
    }
    content_ = spec.params.value("content", std::string());
    trim_ = spec.params.value("trim", false);
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    const std::filesystem::path p(file_);
    return std::make_unique<InotifyWatch>(p.parent_path().string(), p.filename().string(),
                                          std::move(on_event));
  }

  Result<bool> check_apply(bool apply) override {
    if (content_.empty()) return true;
    auto text = read_text_file(file_);
    if (!text) return fail(Code::unavailable, id() + ": " + text.error().message());
    std::vector<std::string> lines = text->has_value() ? split_lines(**text)
                                                       : std::vector<std::string>();
    std::vector<std::string> missing;
    std::vector<bool> matches(lines.size(), false);
    for (const std::string& want : split_lines(content_)) {
      bool found = false;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (same(lines[i], want)) {
          matches[i] = true;
          found = true;
        }
      }
      if (!found) missing.push_back(want);
    }
    const bool any_present = std::find(matches.begin(), matches.end(), true) != matches.end();
    if (state_ == "exists" ? missing.empty() : !any_present) return true;
    if (!apply) return false;
    std::string out;
    if (state_ == "exists") {
      out = text->value_or("");
      if (!out.empty() && out.back() != '\n') out += '\n';
      for (const std::string& l : missing) out += l + "\n";
      log::get("engine")->info("{}: resource: adding {} line(s) to {}", id(), missing.size(),
                               file_);
    } else {
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!matches[i]) out += lines[i] + "\n";
      }
      log::get("engine")->info("{}: resource: removing line(s) from {}", id(), file_);
    }
    if (auto w = write_text_file_atomic(file_, out); !w) {
      return fail(Code::unavailable, id() + ": " + w.error().message());
    }
    return false;
  }

 private:
  bool same(const std::string& a, const std::string& b) const {
    return trim_ ? trimmed(a) == trimmed(b) : a == b;
  }

  std::string file_;
  std::string state_;
  std::string content_;
  bool trim_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_line() { return std::make_unique<Line>(); }

}  // namespace mgmt::agent::resources
