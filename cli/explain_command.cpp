// `nudge explain`: for one account and night, every signal and play with the reasons.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"
#include "runtime/explain.hpp"
#include "runtime/load.hpp"

namespace nudge::cli {
namespace {

struct explain_options {
  std::vector<std::string> rules;
  std::string data;
  std::string as_of;
  std::string account;
};

int explain(const explain_options& o) {
  const auto as_of = runtime::parse_date(o.as_of);
  if (!as_of) {
    std::cerr << "nudge: error: --as-of `" << o.as_of << "` is not a date in the form YYYY-MM-DD\n";
    return exit_code::usage;
  }
  int exit = 0;
  const auto rules = compile_rules(o.rules, exit);
  if (!rules) return exit;
  runtime::load_result loaded = runtime::load_data(o.data, rules->checked.checked, rules->lowered, *as_of);
  if (loaded.fatal) {
    std::cerr << "nudge: error: " << *loaded.fatal << '\n';
    return exit_code::usage;
  }
  const auto account = runtime::find_account(loaded.data, o.account);
  if (!account) {
    std::cerr << "nudge: account `" << o.account << "` has no snapshot on " << o.as_of
              << " in the data, so no rule looks at it that night\n";
    return exit_code::findings;
  }
  std::cout << runtime::explain_account(rules->checked.loaded.rules, rules->checked.checked, rules->lowered,
                                        loaded.data, *account);
  return exit_code::ok;
}

}  // namespace

command add_explain(CLI::App& app) {
  auto o = std::make_shared<explain_options>();
  CLI::App* sub = app.add_subcommand("explain", "Why an account did or did not get each message on a night");
  sub->add_option("--rules", o->rules, "Rule files or folders, or a bundle from `nudge build`")->required();
  sub->add_option("--data", o->data, "Data folder (docs/data.md)")->required();
  sub->add_option("--as-of", o->as_of, "The night, YYYY-MM-DD")->required();
  sub->add_option("--account", o->account, "The account id")->required();
  return [sub, o]() -> int { return sub->parsed() ? explain(*o) : -1; };
}

}  // namespace nudge::cli
