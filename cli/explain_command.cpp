// `nudge explain`: for one account and night, every signal and play with the reasons, and
// with --ledger what the contact policy decided about it.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"
#include "compiler/program.hpp"
#include "runtime/cells.hpp"
#include "runtime/explain.hpp"
#include "runtime/ledger.hpp"
#include "runtime/load.hpp"

namespace nudge::cli {
namespace {

struct explain_options {
  std::vector<std::string> rules;
  std::string data;
  std::string as_of;
  std::string account;
  std::string ledger;
};

// What the contact policy decided about the account: tonight's decisions, its recent
// touches, and its holdout group, from the ledger.
int explain_ledger(const explain_options& o, const ir::module& m, runtime::day_number night) {
  if (!std::filesystem::exists(o.ledger)) {
    std::cerr << "nudge: error: no ledger at `" << o.ledger << "`\n";
    return exit_code::usage;
  }
  try {
    runtime::ledger l(o.ledger, 5000);
    const std::string key = runtime::account_key(o.account);
    std::cout << "\ncontact policy (ledger " << o.ledger << "):\n";
    if (!l.night(night)) {
      std::cout << "  night " << runtime::iso_date(night) << " is not in the ledger yet; `nudge run` decides it\n";
    } else {
      const auto tonight = l.decisions(key, night);
      std::cout << "  decisions on " << runtime::iso_date(night) << ":" << (tonight.empty() ? " none (no play fired)" : "")
                << '\n';
      for (const auto& d : tonight) {
        std::cout << "    #" << d.id << ' ' << d.play << (d.step.empty() ? "" : "/" + d.step) << ' '
                  << compiler::channel_names[d.channel] << " offer " << d.offer_id << ": "
                  << runtime::status_names[static_cast<int>(d.what)] << (d.reason.empty() ? "" : " (" + d.reason + ")")
                  << (d.detail.empty() ? "" : ": " + d.detail) << '\n';
      }
    }
    std::size_t shown = 0;
    std::cout << "  touches in the 90 nights before:";
    for (const auto& d : l.decisions(key, std::nullopt)) {
      if (d.night >= night || d.night < night - 90) continue;
      if (d.what != runtime::status::sent && d.what != runtime::status::held_out) continue;
      std::cout << "\n    " << runtime::iso_date(d.night) << ' ' << d.play << ' ' << compiler::channel_names[d.channel]
                << " offer " << d.offer_id << " (" << runtime::status_names[static_cast<int>(d.what)] << ')';
      ++shown;
    }
    std::cout << (shown == 0 ? " none\n" : "\n");
    if (!m.policy.holdout.empty()) {
      const auto h = l.load_holdout(m.policy.holdout.front().salt);
      const auto it = h.control.find(key);
      std::cout << "  holdout (salt \"" << m.policy.holdout.front().salt << "\"): "
                << (it == h.control.end() ? "not assigned yet" : it->second ? "control group: gets no automated offers"
                                                                            : "treated")
                << '\n';
    }
  } catch (const runtime::ledger_error& e) {
    std::cerr << "nudge: error: " << e.what() << '\n';
    return exit_code::usage;
  }
  return exit_code::ok;
}

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
  if (!o.ledger.empty()) return explain_ledger(o, rules->lowered, *as_of);
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
  sub->add_option("--ledger", o->ledger, "Also what the contact policy decided, from this ledger");
  return [sub, o]() -> int { return sub->parsed() ? explain(*o) : -1; };
}

}  // namespace nudge::cli
