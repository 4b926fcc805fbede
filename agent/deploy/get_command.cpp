// get_command.cpp: `mgmt get`: keys of the store for people (values decoded: a deploy payload
// as its frontend and files, binary escaped), `get deploys` and `get hosts` as tables, or JSON
// with -o json.
#include "agent/deploy/commands.h"
#include "agent/deploy/layout.h"
#include "common/json_text.h"
#include "store/client/etcd_client.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iomanip>

namespace mgmt::agent::deploy {
namespace {

std::string printable(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string for_people(const std::string& key, const std::string& value) {
  if (key.rfind(kDeployPrefix, 0) == 0 && key.size() > 8 &&
      key.compare(key.size() - 8, 8, "/payload") == 0) {
    if (auto p = decode_payload(value)) {
      std::string files;
      for (const auto& f : p->files) files += (files.empty() ? "" : ", ") + f;
      return p->frontend + " deploy " + std::to_string(p->id) + ", files: " +
             (files.empty() ? "none" : files);
    }
  }
  return printable(value);
}

}  // namespace

int get_main(const cli::GetOptions& options, std::ostream& out, std::ostream& err) {
  auto seeds = options.seeds.empty() ? std::vector<std::string>{kDefaultSeed} : options.seeds;
  auto client = store::client::EtcdClient::open(seeds);
  if (!client) {
    err << "mgmt get: " << client.error().message() << "\n";
    return 1;
  }
  bool json = options.output == "json";
  if (options.key == "deploys" || options.key == "hosts") {
    bool deploys = options.key == "deploys";
    auto got = (*client)->get(deploys ? kDeployPrefix : kStatusPrefix,
                              store::client::GetOptions{true, false, options.rev, 0});
    if (!got) {
      err << "mgmt get " << options.key << ": " << got.error().message() << "\n";
      return 1;
    }
    nlohmann::json rows = nlohmann::json::array();
    if (!json) {
      out << (deploys ? "ID    FRONTEND    COMMIT   TIME                  FILES\n"
                      : "HOST                 DEPLOY  CONVERGED  ROLE    ERROR\n");
    }
    for (const auto& kv : got->kvs) {
      if (deploys) {
        if (kv.key.size() < 8 || kv.key.compare(kv.key.size() - 8, 8, "/payload") != 0) continue;
        auto p = decode_payload(kv.value);
        if (!p) continue;
        std::string commit = p->commit.empty() ? "-" : p->commit.substr(0, 7);
        if (json) {
          rows.push_back({{"id", p->id}, {"frontend", p->frontend}, {"commit", p->commit},
                          {"dirty", p->dirty}, {"time", p->time}, {"files", p->files}});
        } else {
          out << std::left << std::setw(6) << p->id << std::setw(12) << p->frontend
              << std::setw(9) << (commit + (p->dirty ? "+" : "")) << std::setw(22) << p->time
              << p->files.size() << "\n";
        }
      } else {
        auto s = decode_status(kv.value);
        if (!s) continue;
        if (json) {
          rows.push_back({{"host", s->host}, {"deploy", s->deploy}, {"converged", s->converged},
                          {"role", s->role}, {"error", s->error}});
        } else {
          out << std::left << std::setw(21) << s->host << std::setw(8) << s->deploy
              << std::setw(11) << (s->converged ? "yes" : "no") << std::setw(8) << s->role
              << (s->error.empty() ? "-" : s->error) << "\n";
        }
      }
    }
    if (json) out << json_text(rows, 2) << "\n";
    return 0;
  }
  auto got = (*client)->get(options.key, store::client::GetOptions{options.prefix,
                                                                  options.keys_only, options.rev,
                                                                  0});
  if (!got) {
    err << "mgmt get: " << got.error().message() << "\n";
    return 1;
  }
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& kv : got->kvs) {
      nlohmann::json row = {{"key", printable(kv.key)}, {"create_revision", kv.create_revision},
                            {"mod_revision", kv.mod_revision}, {"version", kv.version},
                            {"lease", kv.lease}};
      if (!options.keys_only) row["value"] = printable(kv.value);
      rows.push_back(row);
    }
    out << json_text(nlohmann::json{{"revision", got->revision}, {"kvs", rows}}, 2) << "\n";
    return 0;
  }
  if (got->kvs.empty()) {
    err << "mgmt get: no key " << (options.prefix ? "starts with " : "is ") << "\""
        << options.key << "\" at revision " << got->revision
        << (options.prefix ? "" : "; use --prefix to list keys under it") << "\n";
    return 1;
  }
  for (const auto& kv : got->kvs) {
    out << kv.key;
    if (!options.keys_only) out << " = " << for_people(kv.key, kv.value);
    out << "\n";
  }
  return 0;
}

}  // namespace mgmt::agent::deploy
