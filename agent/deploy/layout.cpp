// layout.cpp: keys and JSON encodings of deploys and host status; see layout.h.
#include "agent/deploy/layout.h"

#include "common/json_text.h"

#include <nlohmann/json.hpp>

namespace mgmt::agent::deploy {

std::string payload_key(int64_t id) { return kDeployPrefix + std::to_string(id) + "/payload"; }
std::string hash_key(int64_t id) { return kDeployPrefix + std::to_string(id) + "/hash"; }
std::string fs_prefix(int64_t id) { return kFsPrefix + std::to_string(id) + "/"; }

std::string encode_payload(const Payload& p) {
  nlohmann::json j = {{"id", p.id},         {"frontend", p.frontend}, {"entry", p.entry},
                      {"commit", p.commit}, {"dirty", p.dirty},       {"time", p.time},
                      {"deployer", p.deployer}, {"noop", p.noop},     {"files", p.files}};
  // Only the puppet frontends have these: older agents read payloads without them.
  if (!p.puppet_entry.empty()) j["puppet_entry"] = p.puppet_entry;
  if (!p.puppet_conf.empty()) j["puppet_conf"] = p.puppet_conf;
  return json_text(j);
}

Result<Payload> decode_payload(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    Payload p;
    p.id = j.at("id").get<int64_t>();
    p.frontend = j.at("frontend").get<std::string>();
    p.entry = j.value("entry", "");
    p.commit = j.value("commit", "");
    p.dirty = j.value("dirty", false);
    p.time = j.value("time", "");
    p.deployer = j.value("deployer", "");
    p.noop = j.value("noop", false);
    p.files = j.value("files", std::vector<std::string>());
    p.puppet_entry = j.value("puppet_entry", "");
    p.puppet_conf = j.value("puppet_conf", "");
    return p;
  } catch (const std::exception& e) {
    return fail(Code::data_loss, std::string("a deploy payload in the store is damaged (") +
                                     e.what() + "); deploy again to replace it");
  }
}

std::string encode_status(const HostStatus& s) {
  nlohmann::json j = {{"host", s.host},   {"deploy", s.deploy}, {"converged", s.converged},
                      {"error", s.error}, {"role", s.role},     {"attempted", s.attempted}};
  return json_text(j);
}

Result<HostStatus> decode_status(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    return HostStatus{j.value("host", ""),     j.value("deploy", int64_t{0}),
                      j.value("converged", false), j.value("error", ""),
                      j.value("role", ""),         j.value("attempted", int64_t{0})};
  } catch (const std::exception& e) {
    return fail(Code::data_loss, std::string("a host status in the store is damaged (") +
                                     e.what() + ")");
  }
}

}  // namespace mgmt::agent::deploy
