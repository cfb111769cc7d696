// `nudge gen`: write a synthetic data set for the example rules (docs/data.md#synthetic-data).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "runtime/synthetic.hpp"

namespace nudge::cli {
namespace {

struct gen_options {
  std::uint64_t accounts = 1000;
  std::uint32_t days = 90;
  std::uint64_t seed = 1;
  std::string last_day;
  std::string out;
  bool clean = false;
};

int gen(const gen_options& o) {
  runtime::synthetic_options s;
  s.accounts = o.accounts;
  s.days = o.days;
  s.seed = o.seed;
  s.broken_rows = !o.clean;
  s.last_day = runtime::today_utc();
  if (!o.last_day.empty()) {
    const auto d = runtime::parse_date(o.last_day);
    if (!d) {
      std::cerr << "nudge: error: --last-day `" << o.last_day << "` is not a date in the form YYYY-MM-DD\n";
      return exit_code::usage;
    }
    s.last_day = *d;
  }
  if (o.days == 0 || o.accounts == 0) {
    std::cerr << "nudge: error: --accounts and --days must be at least 1\n";
    return exit_code::usage;
  }
  const runtime::synthetic_stats st = runtime::generate(o.out, s);
  std::cerr << "nudge gen: " << o.accounts << " accounts, " << st.snapshot_rows << " snapshot rows, " << st.tickets
            << " tickets, " << st.transactions << " payments, " << st.broken_rows << " broken rows, in " << o.out
            << "\n";
  return exit_code::ok;
}

}  // namespace

command add_gen(CLI::App& app) {
  auto o = std::make_shared<gen_options>();
  CLI::App* sub = app.add_subcommand("gen", "Write a synthetic data set for the example rules");
  sub->add_option("--accounts", o->accounts, "Number of accounts")->capture_default_str();
  sub->add_option("--days", o->days, "Days of history")->capture_default_str();
  sub->add_option("--seed", o->seed, "Random seed; the same seed gives the same files")->capture_default_str();
  sub->add_option("--last-day", o->last_day, "Date of the newest snapshot, YYYY-MM-DD (default: today in UTC)");
  sub->add_flag("--clean", o->clean, "Leave out the deliberately broken rows");
  sub->add_option("--out", o->out, "Folder to write accounts.csv, tickets.csv, transactions.csv")->required();
  return [sub, o]() -> int { return sub->parsed() ? gen(*o) : -1; };
}

}  // namespace nudge::cli
