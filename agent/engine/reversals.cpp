// reversals.cpp: see reversals.h.
#include "agent/engine/reversals.h"

#include "common/json_text.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mgmt::agent::engine {

Result<void> Reversals::open(const std::string& dir) {
  if (dir.empty()) return ok();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Code::unavailable, "engine: cannot make " + dir + ": " + ec.message());
  path_ = dir + "/reversals.json";
  std::ifstream in(path_);
  if (!in) return ok();
  std::ostringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    std::filesystem::rename(path_, path_ + ".damaged", ec);
    return fail(Code::data_loss, "engine: " + path_ + " is damaged; set aside as " + path_ +
                                     ".damaged (the undo records in it are not applied)");
  }
  for (const auto& [id, s] : doc.items()) {
    frontends::ResourceSpec spec;
    spec.kind = s.value("kind", std::string());
    spec.name = s.value("name", std::string());
    spec.params = s.value("params", nlohmann::json::object());
    if (!spec.kind.empty()) specs_[id] = std::move(spec);
  }
  return ok();
}

Result<void> Reversals::record(const std::string& id, const frontends::ResourceSpec& spec) {
  if (has(id)) return ok();
  specs_[id] = spec;
  return save();
}

Result<std::vector<std::pair<std::string, frontends::ResourceSpec>>> Reversals::take_missing(
    const std::set<std::string>& keep) {
  std::vector<std::pair<std::string, frontends::ResourceSpec>> out;
  for (auto it = specs_.begin(); it != specs_.end();) {
    if (keep.count(it->first)) {
      ++it;
      continue;
    }
    out.emplace_back(it->first, std::move(it->second));
    it = specs_.erase(it);
  }
  if (!out.empty()) {
    if (auto s = save(); !s) return fail(s.error());
  }
  return out;
}

Result<void> Reversals::save() const {
  if (path_.empty()) return ok();
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [id, s] : specs_) {
    doc[id] = {{"kind", s.kind}, {"name", s.name}, {"params", s.params}};
  }
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json_text(doc, 1) << "\n";
    if (!out) return fail(Code::unavailable, "engine: cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) return fail(Code::unavailable, "engine: cannot replace " + path_ + ": " + ec.message());
  return ok();
}

}  // namespace mgmt::agent::engine
