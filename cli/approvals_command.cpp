// `nudge approvals list|approve|reject`: the CSMs' side of enterprise approval, and
// `nudge ledger`: the ledger's decisions as JSON Lines, for audits and "why did this
// customer get this?". Semantics: docs/policy.md#approval.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "compiler/program.hpp"
#include "runtime/cells.hpp"
#include "runtime/ledger.hpp"
#include "runtime/night_job.hpp"

namespace nudge::cli {
namespace {

struct approvals_options {
  std::string ledger;
  bool all = false;
  std::string format = "text";
  std::vector<std::int64_t> ids;
  std::string by;
};

std::unique_ptr<runtime::ledger> open_existing(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    std::cerr << "nudge: error: no ledger at `" << path << "`; `nudge run --ledger " << path << "` creates it\n";
    return nullptr;
  }
  try {
    return std::make_unique<runtime::ledger>(path, 5000);
  } catch (const runtime::ledger_error& e) {
    std::cerr << "nudge: error: " << e.what() << "\n";
    return nullptr;
  }
}

int list(const approvals_options& o) {
  const auto l = open_existing(o.ledger);
  if (!l) return exit_code::usage;
  const std::vector<runtime::approval_item> items = l->approvals(!o.all);
  if (o.format == "json") {
    for (const auto& it : items) {
      const auto& d = it.held;
      nlohmann::ordered_json j{{"id", d.id},
                               {"night", runtime::iso_date(d.night)},
                               {"account", d.account},
                               {"play", d.play},
                               {"step", d.step},
                               {"channel", compiler::channel_names[d.channel]},
                               {"offer_id", d.offer_id},
                               {"csm", d.csm},
                               {"expires", d.expires ? runtime::iso_date(*d.expires) : ""},
                               {"verdict", it.verdict.empty() ? "open" : it.verdict},
                               {"decided_by", it.decided_by}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    return exit_code::ok;
  }
  if (items.empty()) {
    std::cout << (o.all ? "no action was ever held for approval\n" : "nothing awaits approval\n");
    return exit_code::ok;
  }
  for (const auto& it : items) {
    const auto& d = it.held;
    std::cout << '#' << d.id << "  " << runtime::iso_date(d.night) << "  " << d.account << "  " << d.play
              << (d.step.empty() ? "" : "/" + d.step) << "  " << compiler::channel_names[d.channel] << "  offer "
              << d.offer_id << "  csm " << (d.csm.empty() ? "-" : d.csm) << "  until "
              << (d.expires ? runtime::iso_date(*d.expires) : "-") << "  "
              << (it.verdict.empty() ? "open" : it.verdict + (it.decided_by.empty() ? "" : " by " + it.decided_by))
              << '\n';
  }
  std::cout << items.size() << (o.all ? " held action(s)\n" : " action(s) await approval\n");
  return exit_code::ok;
}

int decide(const approvals_options& o, bool approve) {
  const auto l = open_existing(o.ledger);
  if (!l) return exit_code::usage;
  std::string by = o.by;
  if (by.empty()) {
    const char* user = std::getenv("USER");
    by = user != nullptr ? user : "unknown";
  }
  int code = exit_code::ok;
  for (const std::int64_t id : o.ids) {
    if (const auto error = l->decide(id, approve, by)) {
      std::cerr << "nudge: error: " << *error << "\n";
      code = exit_code::findings;
      continue;
    }
    std::cout << '#' << id << (approve ? " approved: the next `nudge run` sends it\n"
                                       : " rejected: it is not sent, and its play is not offered to the account "
                                         "again until the action would have expired\n");
  }
  return code;
}

struct ledger_options {
  std::string ledger;
  std::string account;
  std::string night;
};

int show(const ledger_options& o) {
  std::optional<runtime::day_number> night;
  if (!o.night.empty()) {
    night = runtime::parse_date(o.night);
    if (!night) {
      std::cerr << "nudge: error: --night `" << o.night << "` is not a date in the form YYYY-MM-DD\n";
      return exit_code::usage;
    }
  }
  const auto l = open_existing(o.ledger);
  if (!l) return exit_code::usage;
  const std::string key = o.account.empty() ? std::string() : runtime::account_key(o.account);
  for (const auto& d : l->decisions(key, night)) std::cout << runtime::outbox_line(d) << '\n';
  return exit_code::ok;
}

}  // namespace

command add_approvals(CLI::App& app) {
  auto o = std::make_shared<approvals_options>();
  CLI::App* sub = app.add_subcommand("approvals", "List, approve or reject actions held for a CSM's approval");
  sub->require_subcommand(1);
  CLI::App* ls = sub->add_subcommand("list", "Actions awaiting approval (with --all: every held action and its verdict)");
  ls->add_option("--ledger", o->ledger, "The touch ledger")->required();
  ls->add_flag("--all", o->all, "Also the decided and expired ones");
  ls->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  CLI::App* ap = sub->add_subcommand("approve", "Approve held actions: the next run sends them");
  CLI::App* rj = sub->add_subcommand("reject", "Reject held actions: they are never sent");
  for (CLI::App* s : {ap, rj}) {
    s->add_option("id", o->ids, "Ids from `nudge approvals list`")->required();
    s->add_option("--ledger", o->ledger, "The touch ledger")->required();
    s->add_option("--by", o->by, "Who decides (default: $USER)");
  }
  return [ls, ap, rj, o]() -> int {
    if (ls->parsed()) return list(*o);
    if (ap->parsed()) return decide(*o, true);
    if (rj->parsed()) return decide(*o, false);
    return -1;
  };
}

command add_ledger(CLI::App& app) {
  auto o = std::make_shared<ledger_options>();
  CLI::App* sub = app.add_subcommand("ledger", "Print the ledger's decisions as JSON Lines (the audit trail)");
  sub->add_option("--ledger", o->ledger, "The touch ledger")->required();
  sub->add_option("--account", o->account, "Only this account");
  sub->add_option("--night", o->night, "Only this night, YYYY-MM-DD");
  return [sub, o]() -> int { return sub->parsed() ? show(*o) : -1; };
}

}  // namespace nudge::cli
