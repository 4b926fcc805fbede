// help.cpp: finds a help request in any of its spellings and renders the one help text of a
// command; see help.h.
#include "agent/cli/help.h"

#include "agent/cli/command_tree.h"
#include "agent/cli/misuse.h"

namespace mgmt::agent::cli {
namespace {

// The option named `flag` ("--seeds", "-o") of `command` or of a command above it, since flags
// fall through to the command that declares them.
const CLI::Option* find_option(const CLI::App* command, const std::string& flag) {
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    for (const CLI::Option* opt : c->get_options()) {
      if (opt->check_name(flag)) return opt;
    }
  }
  return nullptr;
}

std::vector<std::string> names_of(CLI::App* command) {
  std::vector<std::string> names;
  for (CLI::App* sub : subcommands_of(command)) names.push_back(sub->get_name());
  return names;
}

CLI::App* find_subcommand(CLI::App* command, const std::string& name) {
  for (CLI::App* sub : subcommands_of(command)) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

// `mgmt help a b c`: resolves the path below the root.
Result<CLI::App*> resolve_help_path(CLI::App* root, const std::vector<std::string>& args,
                                    std::size_t from) {
  CLI::App* node = root;
  bool asks_help_of_help = false;
  for (std::size_t i = from; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-h" || word == "--help") asks_help_of_help = node == root;
    if (word.empty() || word[0] == '-') continue;
    CLI::App* sub = find_subcommand(node, word);
    if (sub == nullptr) {
      std::string what = node == root ? "is not a command" : "is not a subcommand of '" + command_path(node) + "'";
      std::string list = node == root ? "'mgmt help'" : "'mgmt help " + command_path(node).substr(5) + "'";
      return fail(Code::invalid_argument, "mgmt help: \"" + word + "\" " + what +
                                              did_you_mean(word, names_of(node)) + " (see " +
                                              list + " for the list)");
    }
    node = sub;
  }
  // `mgmt help --help` asks about the help command itself, as `mgmt help help` does.
  if (asks_help_of_help) return find_subcommand(root, "help");
  return node;
}

}  // namespace

std::optional<Result<CLI::App*>> find_help_request(CLI::App* root,
                                                   const std::vector<std::string>& args) {
  CLI::App* node = root;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;  // everything after is a positional argument
    if (arg == "-h" || arg == "--help") return Result<CLI::App*>(node);
    if (!arg.empty() && arg[0] == '-') {
      std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* opt = find_option(node, name);
      bool takes_value = opt != nullptr && opt->get_expected_min() > 0;
      if (takes_value && arg.find('=') == std::string::npos) ++i;  // skip its value
      continue;
    }
    if (arg == "help") {
      if (node == root) return resolve_help_path(root, args, i + 1);
      if (!subcommands_of(node).empty()) return Result<CLI::App*>(node);
    }
    if (CLI::App* sub = find_subcommand(node, arg)) node = sub;
  }
  return std::nullopt;
}

std::string help_text(const CLI::App* command) {
  const CLI::App* parent = command->get_parent();
  std::string prefix = parent == nullptr ? std::string() : command_path(parent);
  std::string text = command->help(prefix, CLI::AppFormatMode::Normal);
  if (parent != nullptr && parent->get_parent() != nullptr) {
    text += "\nThe flags of '" + command_path(parent) + "' apply here too; see 'mgmt help " +
            command_path(parent).substr(5) + "'.\n";
  }
  return text;
}

}  // namespace mgmt::agent::cli
