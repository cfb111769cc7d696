// One night: evaluate every account, pick the plays that fire, render their messages, and
// write one JSON Lines record per candidate action (docs/data.md#output), plus a CSV of
// tasks for a CRM. Accounts are split into contiguous ranges, one per thread; output order
// is the accounts' order whatever the number of threads.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "compiler/ir.hpp"
#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"
#include "runtime/dataset.hpp"
#include "runtime/policy.hpp"
#include "runtime/text_arena.hpp"

namespace nudge::runtime {

struct night_options {
  unsigned threads = 1;
  // Accounts per evaluator pass. Each instruction runs once per batch; 4,096 amortises that
  // better than 1,024 (example signals 106-108 -> 100-101 ns per account) while a
  // register's batch (32 KB) stays in L2 (docs/performance.md).
  std::size_t batch = 4096;
  std::string rules_hash;
  // With a policy (run_night's `collect`): also render each candidate's task CSV row
  // (candidate::task_row), for a run that writes the CSV, so that sent actions need not have
  // their record parsed again. Without one, rows are rendered when `csv` is given.
  bool task_rows = false;
  // Called now and then with the share of accounts done, for a progress bar.
  std::function<void(double)> progress;
};

struct night_summary {
  std::size_t accounts = 0;
  std::vector<std::size_t> signal_fired;     // per signal
  std::vector<std::size_t> signal_unknown;   // per signal: could not be evaluated
  std::vector<std::size_t> play_candidates;  // per play
  std::size_t actions = 0;
  double evaluate_seconds = 0;
  double write_seconds = 0;
};

// What the contact policy needs from the evaluation: every candidate action, rendered, with
// the account's policy facts, grouped by account in dataset order; and per account the
// holdout's stratifying value (empty when the holdout has no `by`).
struct night_candidates {
  std::vector<candidate> candidates;
  std::vector<text_arena> texts;  // the candidates' records
  std::vector<double> bands;
};

// Evaluates every account. With `collect`, the candidates go there (for the policy) and
// nothing is written; without, each candidate is written to `jsonl` and `csv` as it is.
night_summary run_night(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                        dataset& data, const night_options& options, std::ostream* jsonl, std::ostream* csv,
                        night_candidates* collect = nullptr);

// One row of the task export (docs/data.md): the columns of task_csv_header().
struct task_fields {
  std::string_view account, night, channel;
  std::int64_t priority = 0;
  std::string_view subject, why_now, offer, next_step, offer_id, play, step, locale;
};
void append_task_csv_row(std::string& out, const task_fields& f);

// One CSV row of the task export from an outbox record (JSON): for records read back from
// the ledger (replays, released approvals).
std::string task_csv_row(std::string_view record);

// A decision's row: the one rendered with it tonight (decision::task_row), or else built
// from its record.
std::string task_csv_row(const decision& d);

// The CSV header of the task export.
std::string task_csv_header();

}  // namespace nudge::runtime
