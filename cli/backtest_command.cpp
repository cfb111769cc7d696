// `nudge backtest`: replay a range of nights with the contact policy against a scratch
// ledger and report what the rules would have sent, suppressed and held; with
// --baseline, the same for another rule set and the difference. Text or JSON.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"
#include "runtime/backtest.hpp"

namespace nudge::cli {
namespace {

using json = nlohmann::ordered_json;

struct backtest_options {
  std::vector<std::string> rules;
  std::vector<std::string> baseline;
  std::string data;
  std::string from;
  std::string to;
  std::string format = "text";
  bool pilot = false;
  unsigned threads = 0;
};

json tally_json(const runtime::play_tally& t) {
  return {{"play", t.play}, {"candidates", t.candidates}, {"decisions", t.decisions}, {"reasons", t.reasons}};
}

json report_json(const runtime::backtest_report& r) {
  json plays = json::array();
  for (const auto& p : r.plays) plays.push_back(tally_json(p));
  json most = json::array();
  for (const auto& [a, n] : r.most_touched) most.push_back({{"account", a}, {"sent", n}});
  json busy = json::array();
  for (const auto& b : r.busy_days) {
    busy.push_back({{"account", b.account}, {"night", runtime::iso_date(b.night)}, {"messages", b.messages}});
  }
  return {{"rules_hash", r.rules_hash},
          {"from", runtime::iso_date(r.from)},
          {"to", runtime::iso_date(r.to)},
          {"nights", r.nights},
          {"accounts", r.accounts},
          {"plays", plays},
          {"total", tally_json(r.total)},
          {"touches_per_account_week", {{"max", r.max_per_week}, {"p95", r.p95_per_week}, {"account_weeks", r.touched_weeks}}},
          {"most_touched", most},
          {"busy_days", busy}};
}

std::size_t count(const std::map<std::string, std::size_t>& m, const std::string& k) {
  const auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

void print_report(const runtime::backtest_report& r) {
  std::cout << "nudge backtest: " << runtime::iso_date(r.from) << " .. " << runtime::iso_date(r.to) << " (" << r.nights
            << " nights), rules " << r.rules_hash << ", up to " << r.accounts << " accounts a night\n\n";
  std::cout << fmt_row({"play", "candidates", "sent", "suppressed", "deferred", "held", "held out", "would send"});
  auto row = [](const runtime::play_tally& t) {
    std::cout << fmt_row({t.play, std::to_string(t.candidates), std::to_string(count(t.decisions, "sent")),
                          std::to_string(count(t.decisions, "suppressed")), std::to_string(count(t.decisions, "deferred")),
                          std::to_string(count(t.decisions, "held")), std::to_string(count(t.decisions, "held_out")),
                          std::to_string(count(t.decisions, "would_send"))});
    for (const auto& [reason, n] : t.reasons) std::cout << "    " << reason << ": " << n << '\n';
  };
  for (const auto& p : r.plays) row(p);
  row(r.total);
  std::cout << "\ntouches per account per week: max " << r.max_per_week << ", p95 " << r.p95_per_week << " (over "
            << r.touched_weeks << " account-weeks with a touch)\n";
  std::cout << "most touched:";
  if (r.most_touched.empty()) std::cout << " none";
  for (const auto& [a, n] : r.most_touched) std::cout << ' ' << a << " (" << n << ')';
  std::cout << "\nmore than one message on one day: " << r.busy_days.size() << " account-night(s)";
  for (std::size_t i = 0; i < r.busy_days.size() && i < 10; ++i) {
    std::cout << (i ? ", " : ": ") << r.busy_days[i].account << " on " << runtime::iso_date(r.busy_days[i].night) << " ("
              << r.busy_days[i].messages << ')';
  }
  std::cout << '\n';
}

// Per play, the change in sent actions; per account, the offer ids it would now get that
// the baseline did not send it (added) and the ones it no longer gets (removed).
struct difference {
  std::vector<std::pair<std::string, std::int64_t>> plays;
  struct account_change {
    std::string account;
    std::vector<std::string> added;
    std::vector<std::string> removed;
  };
  std::vector<account_change> accounts;
  std::size_t gain = 0;
  std::size_t lose = 0;
};

difference diff(const runtime::backtest_report& now, const runtime::backtest_report& base) {
  difference d;
  std::set<std::string> plays;
  for (const auto& [p, n] : now.sent_per_play) plays.insert(p);
  for (const auto& [p, n] : base.sent_per_play) plays.insert(p);
  for (const auto& p : plays) {
    d.plays.emplace_back(p, static_cast<std::int64_t>(count(now.sent_per_play, p)) -
                                static_cast<std::int64_t>(count(base.sent_per_play, p)));
  }
  std::set<std::string> accounts;
  for (const auto& [a, o] : now.offers_per_account) accounts.insert(a);
  for (const auto& [a, o] : base.offers_per_account) accounts.insert(a);
  const std::set<std::string> none;
  auto offers = [&](const runtime::backtest_report& r, const std::string& a) -> const std::set<std::string>& {
    const auto it = r.offers_per_account.find(a);
    return it == r.offers_per_account.end() ? none : it->second;
  };
  for (const auto& a : accounts) {
    difference::account_change c{a, {}, {}};
    const auto& x = offers(now, a);
    const auto& y = offers(base, a);
    std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(c.added));
    std::set_difference(y.begin(), y.end(), x.begin(), x.end(), std::back_inserter(c.removed));
    if (c.added.empty() && c.removed.empty()) continue;
    d.gain += c.added.empty() ? 0 : 1;
    d.lose += c.removed.empty() ? 0 : 1;
    d.accounts.push_back(std::move(c));
  }
  return d;
}

std::string join(const std::vector<std::string>& v, char sign) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + std::string(1, sign) + s;
  return out;
}

int backtest(const backtest_options& o) {
  const auto from = runtime::parse_date(o.from);
  const auto to = runtime::parse_date(o.to);
  if (!from || !to) {
    std::cerr << "nudge: error: --from and --to take dates in the form YYYY-MM-DD\n";
    return exit_code::usage;
  }
  if (*to < *from || *to - *from > 3660) {
    std::cerr << "nudge: error: --to must be on or after --from, at most 10 years later\n";
    return exit_code::usage;
  }
  int exit = 0;
  const auto rules = compile_rules(o.rules, exit);
  if (!rules) return exit;
  std::optional<compiled_rules> base;
  if (!o.baseline.empty()) {
    base = compile_rules(o.baseline, exit);
    if (!base) return exit;
  }
  for (const compiled_rules* r : std::initializer_list<const compiled_rules*>{&*rules, base ? &*base : nullptr}) {
    if (r != nullptr && !r->lowered.policy.present) {
      std::cerr << "nudge: error: backtest replays the contact policy; the rules have no `policy`\n";
      return exit_code::usage;
    }
  }
  const unsigned threads = o.threads != 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  auto replay = [&](const compiled_rules& r) {
    return runtime::backtest({r.checked.loaded.rules, r.checked.checked, r.lowered, r.hash}, o.data, *from, *to, threads,
                             o.pilot);
  };
  runtime::backtest_result now;
  std::optional<runtime::backtest_result> then;
  try {
    now = replay(*rules);
    if (base && !now.fatal) then = replay(*base);
  } catch (const runtime::ledger_error& e) {
    std::cerr << "nudge: internal error: " << e.what() << '\n';
    return exit_code::usage;
  }
  for (const runtime::backtest_result* r :
       std::initializer_list<const runtime::backtest_result*>{&now, then ? &*then : nullptr}) {
    if (r != nullptr && r->fatal) {
      std::cerr << "nudge: error: " << *r->fatal << "\n";
      return exit_code::usage;
    }
  }
  if (o.format == "json") {
    json j{{"version", 1}, {"rules", report_json(now.report)}};
    if (then) {
      const difference d = diff(now.report, then->report);
      json plays = json::array();
      for (const auto& [p, n] : d.plays) plays.push_back({{"play", p}, {"sent_change", n}});
      json accounts = json::array();
      for (const auto& c : d.accounts) {
        accounts.push_back({{"account", c.account}, {"offers_added", c.added}, {"offers_removed", c.removed}});
      }
      j["baseline"] = report_json(then->report);
      j["difference"] = {{"plays", plays}, {"accounts_gaining_offers", d.gain}, {"accounts_losing_offers", d.lose},
                         {"accounts", accounts}};
    }
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    return exit_code::ok;
  }
  print_report(now.report);
  if (then) {
    std::cout << "\nbaseline:\n";
    print_report(then->report);
    const difference d = diff(now.report, then->report);
    std::cout << "\ndifference (rules " << now.report.rules_hash << " against baseline " << then->report.rules_hash
              << "), sent actions:\n";
    for (const auto& [p, n] : d.plays) std::cout << "  " << p << ' ' << (n > 0 ? "+" : "") << n << '\n';
    std::cout << "this change adds offers for " << d.gain << " account(s) and removes offers for " << d.lose
              << " account(s)\n";
    for (std::size_t i = 0; i < d.accounts.size() && i < 20; ++i) {
      const auto& c = d.accounts[i];
      std::cout << "  " << c.account << ": " << join(c.added, '+') << (c.added.empty() || c.removed.empty() ? "" : " ")
                << join(c.removed, '-') << '\n';
    }
    if (d.accounts.size() > 20) std::cout << "  ... and " << d.accounts.size() - 20 << " more (--format json lists all)\n";
  }
  return exit_code::ok;
}

}  // namespace

command add_backtest(CLI::App& app) {
  auto o = std::make_shared<backtest_options>();
  CLI::App* sub = app.add_subcommand("backtest", "Replay a range of nights with the contact policy: would this spam anyone?");
  sub->add_option("--rules", o->rules, "Rule files or folders, or a bundle")->required();
  sub->add_option("--data", o->data, "Data folder holding the history of the whole range")->required();
  sub->add_option("--from", o->from, "First night, YYYY-MM-DD")->required();
  sub->add_option("--to", o->to, "Last night, YYYY-MM-DD")->required();
  sub->add_option("--baseline", o->baseline, "Other rules to replay over the same nights and compare against");
  sub->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--pilot", o->pilot, "Replay as pilot runs");
  sub->add_option("--threads", o->threads, "Threads for loading and evaluation (default: all cores)");
  return [sub, o]() -> int { return sub->parsed() ? backtest(*o) : -1; };
}

}  // namespace nudge::cli
