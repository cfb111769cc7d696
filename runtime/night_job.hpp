// The nightly job against the touch ledger: evaluate, apply the contact policy to tonight's
// candidates and the ledger's history, record every decision in one transaction, and
// return the night's outbox. A night already in the ledger is not decided again: its
// outbox is read back from the ledger (idempotent re-runs, recovery after a crash between
// commit and writing the outbox). Semantics: docs/policy.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/ledger.hpp"
#include "runtime/night.hpp"

namespace nudge::runtime {

struct job_options {
  std::string ledger;  // path; empty: a scratch ledger in memory (nothing is kept)
  bool pilot = false;
  bool dry_run = false;  // decide, but write nothing to the ledger
  bool force = false;    // decide a night older than the ledger's latest
  int busy_timeout_ms = 0;
  night_options night;
};

enum class job_outcome { decided, replayed, refused };

struct job_result {
  job_outcome outcome = job_outcome::decided;
  std::string message;  // refused: why and what to do; replayed: what was replayed
  night_summary summary;  // evaluation counts (decided only)
  std::vector<decision> decisions;  // the night's, in order, with their ledger ids
  std::vector<text_arena> texts;    // what the decisions' `rendered` views point into
  std::size_t control_accounts = 0;
  double policy_seconds = 0;  // all of the below
  double decide_seconds = 0;  // reading the history and deciding
  double record_seconds = 0;  // inserting the decisions and holdout assignments
  double commit_seconds = 0;
};

// The outbox line of a decision: its record with the ledger id first.
std::string outbox_line(const decision& d);

// For crash tests only: when the environment variable NUDGE_TEST_KILL_AT names `point`,
// the process kills itself there with SIGKILL (points: evaluated, recorded, committed,
// outbox). Does nothing otherwise.
void test_kill_point(std::string_view point);

// Runs one night. `data` is loaded for the night (data.as_of). Throws ledger_error when the
// ledger cannot be opened or written.
job_result run_job(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                   dataset& data, const job_options& o);

// Same, against a ledger the caller holds open (backtests replay many nights on one).
job_result run_job(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                   dataset& data, const job_options& o, ledger& l);

}  // namespace nudge::runtime
