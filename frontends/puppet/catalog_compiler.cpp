// catalog_compiler.cpp: see catalog_compiler.h.
#include "frontends/puppet/catalog_compiler.h"

#include "agent/resources/command.h"
#include "compile_catalog_script.h"

#include <filesystem>
#include <sstream>

namespace mgmt::frontends::puppet {
namespace {

constexpr int64_t kCompileTimeoutSeconds = 300;
const char* const kInstallPuppet =
    "the puppet frontend needs puppet on this host: apt-get install puppet";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The line that says why, after `prefix`; else the last "Error: " line; else the last line.
std::string reason(const std::string& stderr_text, const std::string& prefix) {
  auto lines = lines_of(stderr_text);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->rfind(prefix, 0) == 0) return it->substr(prefix.size());
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->rfind("Error: ", 0) == 0) return it->substr(7);
  }
  return lines.empty() ? std::string("no output") : lines.back();
}

}  // namespace

Result<Compiled> compile_catalog(const CompileRequest& request) {
  const std::string name = request.name.empty() ? request.manifest : request.name;
  agent::resources::Command c;
  c.cmd = "ruby";
  c.direct = true;
  c.args = {"-e", kCompileCatalogScript, "--", request.manifest};
  if (!request.puppet_conf.empty()) {
    c.args.push_back("--config");
    c.args.push_back(request.puppet_conf);
  }
  if (!request.hiera_config.empty()) {
    c.args.push_back("--hiera_config");
    c.args.push_back(request.hiera_config);
  }
  if (!request.modulepath.empty()) {
    c.args.push_back("--mgmt-modules");
    c.args.push_back(request.modulepath);
  }
  auto outcome = agent::resources::run(c, kCompileTimeoutSeconds);
  if (outcome.exit_code == -1 || outcome.exit_code == 127 || outcome.exit_code == 3) {
    // Not a passing state to retry: the host needs a package (the deploy watcher retries
    // `unavailable` for 30 s).
    return fail(Code::failed_precondition, kInstallPuppet);
  }
  if (outcome.timed_out) {
    return fail(Code::deadline_exceeded,
                name + ": puppet did not compile it within " +
                    std::to_string(kCompileTimeoutSeconds) + " s");
  }
  if (outcome.exit_code != 0) {
    return fail(Code::invalid_argument,
                name + ": " + reason(outcome.stderr_text, "catalog error: "));
  }
  Compiled compiled;
  try {
    auto out = nlohmann::json::parse(outcome.stdout_text);
    compiled.catalog = out.at("catalog");
    compiled.runinterval = out.value("runinterval", int64_t{1800});
    if (auto b = out.find("basemodulepath"); b != out.end() && b->is_string()) {
      compiled.basemodulepath = *b;
    }
  } catch (const std::exception& e) {
    return fail(Code::internal, name + ": puppet's catalog did not read as JSON (" +
                                    std::string(e.what()) + ")");
  }
  for (const auto& line : lines_of(outcome.stderr_text)) {
    if (line.rfind("Warning: ", 0) == 0) compiled.warnings.push_back(line.substr(9));
  }
  return compiled;
}

Result<bool> validate_syntax(const std::string& manifest, const std::string& name) {
  auto outcome = agent::resources::run_program(
      {"puppet", "parser", "validate", "--color=false", manifest}, kCompileTimeoutSeconds);
  if (outcome.exit_code == -1 || outcome.exit_code == 127) return false;
  if (outcome.exit_code != 0) {
    std::string why = reason(outcome.output, "Error: ");
    // Puppet names the file it was given, which may be a temporary copy: name the user's.
    const std::string file_note = " (file: " + manifest;
    if (auto at = why.find(file_note); at != std::string::npos) {
      why.replace(at, file_note.size(), " (file: " + name);
    }
    return fail(Code::invalid_argument, name + ": " + why);
  }
  return true;
}

}  // namespace mgmt::frontends::puppet
