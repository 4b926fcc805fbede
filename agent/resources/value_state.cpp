// value_state.cpp: see value_state.h.
#include "agent/resources/value_state.h"

#include "common/json_text.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mgmt::agent::resources {

std::string value_path(const std::string& dir, const std::string& name) {
  std::string file;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      file += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      file += hex;
    }
  }
  if (file.empty() || file == "." || file == "..") file = "%" + file;
  return (std::filesystem::path(dir) / (file + ".json")).string();
}

Result<std::optional<nlohmann::json>> read_value(const std::string& dir,
                                                 const std::string& name) {
  const std::string path = value_path(dir, name);
  std::ifstream in(path);
  if (!in) return std::optional<nlohmann::json>();
  std::ostringstream text;
  text << in.rdbuf();
  auto value = nlohmann::json::parse(text.str(), nullptr, false);
  if (value.is_discarded()) {
    return fail(Code::data_loss, "the value of " + name + " in " + path +
                                     " is damaged; remove the file and the value resource "
                                     "writes it again");
  }
  return std::optional<nlohmann::json>(std::move(value));
}

Result<void> write_value(const std::string& dir, const std::string& name,
                         const std::optional<nlohmann::json>& value) {
  const std::string path = value_path(dir, name);
  std::error_code ec;
  if (!value) {
    std::filesystem::remove(path, ec);
    if (ec) return fail(Code::internal, "cannot remove " + path + ": " + ec.message());
    return ok();
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Code::internal, "cannot make " + dir + ": " + ec.message());
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json_text(*value);
    if (!out.flush()) return fail(Code::internal, "cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) return fail(Code::internal, "cannot rename " + temporary + ": " + ec.message());
  return ok();
}

}  // namespace mgmt::agent::resources
