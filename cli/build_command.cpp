// `nudge build`: check and compile a rule set into one bundle file for the nightly job.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"

namespace nudge::cli {
namespace {

struct build_options {
  std::vector<std::string> rules;
  std::string out;
};

int build(const build_options& o) {
  int exit = 0;
  const auto rules = compile_rules(o.rules, exit);
  if (!rules) return exit;
  if (!write_bundle(*rules, o.out)) {
    std::cerr << "nudge: error: cannot write `" << o.out << "`\n";
    return exit_code::usage;
  }
  std::cerr << "nudge build: wrote " << o.out << " (rules " << rules->hash << ", "
            << rules->checked.loaded.rules.sources.size() << " files)\n";
  return exit_code::ok;
}

}  // namespace

command add_build(CLI::App& app) {
  auto o = std::make_shared<build_options>();
  CLI::App* sub = app.add_subcommand("build", "Check and compile rules into one bundle file that `nudge run` accepts");
  sub->add_option("rules", o->rules, "Rule files or folders")->required();
  sub->add_option("-o,--out", o->out, "The bundle file to write")->required();
  return [sub, o]() -> int { return sub->parsed() ? build(*o) : -1; };
}

}  // namespace nudge::cli
