// `nudge backtest`: replay every night of a date range against a scratch ledger, with the
// contact policy, and report what the rules would have done: per play, candidates and
// decisions by kind and reason; touches per account per week; the most touched accounts;
// days an account got more than one message. With a baseline rule set, the same nights
// replayed for both and the difference per play and per account. Semantics: docs/policy.md#backtest.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/night_job.hpp"

namespace nudge::runtime {

struct play_tally {
  std::string play;
  std::size_t candidates = 0;  // decisions about a candidate of tonight (not releases or expiries)
  std::map<std::string, std::size_t> decisions;  // status -> count
  std::map<std::string, std::size_t> reasons;    // "suppressed: weekly_offer" -> count
};

struct backtest_report {
  day_number from = 0;
  day_number to = 0;
  std::size_t nights = 0;
  std::string rules_hash;
  std::size_t accounts = 0;                     // the largest number of accounts on one night
  std::vector<play_tally> plays;                // in the rules' order
  play_tally total;
  std::size_t max_per_week = 0;                 // sent actions per account per ISO week
  std::size_t p95_per_week = 0;                 // over the account-weeks with at least one
  std::size_t touched_weeks = 0;
  std::vector<std::pair<std::string, std::size_t>> most_touched;  // top 10, by sent actions
  struct busy_day {
    std::string account;
    day_number night = 0;
    std::size_t messages = 0;
  };
  std::vector<busy_day> busy_days;              // an account with more than one sent action on one night
  std::map<std::string, std::size_t> sent_per_account;
  std::map<std::string, std::set<std::string>> offers_per_account;  // offer ids sent
  std::map<std::string, std::size_t> sent_per_play;
};

struct backtest_rules {
  const compiler::rule_set& rules;
  const compiler::program& checked;
  const ir::module& lowered;
  std::string hash;
};

// Replays [from, to]. Throws ledger_error on a ledger fault; a night whose data cannot be
// loaded stops the replay with `fatal` set.
struct backtest_result {
  backtest_report report;
  std::optional<std::string> fatal;
};
backtest_result backtest(const backtest_rules& r, const std::filesystem::path& data, day_number from, day_number to,
                         unsigned threads, bool pilot);

}  // namespace nudge::runtime
