#include "runtime/night_job.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <cstdlib>

#include "runtime/cells.hpp"

namespace nudge::runtime {

void test_kill_point(std::string_view point) {
  const char* at = std::getenv("NUDGE_TEST_KILL_AT");
  if (at != nullptr && point == at) std::raise(SIGKILL);
}

std::string outbox_line(const decision& d) {
  std::string record;
  append_full_record(record, d);
  std::string out = "{\"id\":" + std::to_string(d.id);
  if (record.size() > 2) out += ',';
  out.append(record, 1, std::string::npos);
  return out;
}

job_result run_job(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                   dataset& data, const job_options& o) {
  // A dry run against a ledger that does not exist yet must not create it: it decides
  // against an empty scratch ledger, which is what the file would hold.
  const bool scratch = o.ledger.empty() || (o.dry_run && !std::filesystem::exists(o.ledger));
  ledger l(scratch ? std::string(":memory:") : o.ledger, o.busy_timeout_ms, scratch || !o.dry_run);
  return run_job(rules, checked, m, data, o, l);
}

job_result run_job(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                   dataset& data, const job_options& o, ledger& l) {
  job_result r;
  const day_number night = data.as_of;
  // The write lock is taken before anything is read, so the history the policy decides on
  // cannot change under it, and a second run against the ledger is refused here.
  if (!l.begin_night()) {
    r.outcome = job_outcome::refused;
    r.message = "another nudge run is writing to the ledger `" + o.ledger +
                "`; nothing was decided. Wait for it to finish, then run again";
    return r;
  }
  try {
    if (const auto done = l.night(night)) {
      r.outcome = job_outcome::replayed;
      r.decisions = l.decisions("", night);
      r.message = "night " + iso_date(night) + " is already in the ledger (rules " + done->rules_hash + ", " +
                  done->mode + "); its outbox is written again from the ledger and nothing new is recorded";
      l.rollback();
      return r;
    }
    if (const auto latest = l.latest_night(); latest && *latest > night && !o.force) {
      r.outcome = job_outcome::refused;
      r.message = "the ledger's latest night is " + iso_date(*latest) + ", after " + iso_date(night) +
                  "; deciding an older night would count touches out of order. Pass --force to decide it anyway";
      l.rollback();
      return r;
    }
    night_candidates tonight;
    r.summary = run_night(rules, checked, m, data, o.night, nullptr, nullptr, &tonight);
    const auto decided = std::chrono::steady_clock::now();
    const std::vector<std::string>& keys = data.account_keys;
    const history past = l.load_history(history_start(m.policy, night), night);
    const holdout_state holdout = m.policy.holdout.empty() ? holdout_state{} : l.load_holdout(m.policy.holdout.front().salt);
    policy_options po;
    po.night = night;
    po.pilot = o.pilot;
    po.rules_hash = o.night.rules_hash;
    night_decisions out = decide_night(m, keys, tonight.candidates, tonight.bands, past, holdout, po);
    const auto recording = std::chrono::steady_clock::now();
    test_kill_point("evaluated");
    l.record_night({night, o.night.rules_hash, o.pilot ? "pilot" : "live"}, out.decisions.size());
    std::string record;
    for (decision& d : out.decisions) {
      record.clear();
      append_full_record(record, d);
      l.insert(d, record);
    }
    for (const auto& [held, index] : out.releases) l.record_release(held, out.decisions[index].id);
    if (!m.policy.holdout.empty()) {
      // In key order, so the table's index grows at its end rather than at random places.
      std::sort(out.assignments.begin(), out.assignments.end(),
                [](const holdout_assignment& a, const holdout_assignment& b) { return a.account < b.account; });
      for (const holdout_assignment& a : out.assignments) {
        l.assign_holdout(m.policy.holdout.front().salt, a.account, a.band, a.control, night);
      }
    }
    test_kill_point("recorded");
    const auto committing = std::chrono::steady_clock::now();
    if (o.dry_run) {
      l.rollback();
    } else {
      l.commit();
    }
    test_kill_point("committed");
    r.decisions = std::move(out.decisions);
    r.texts = std::move(tonight.texts);
    r.control_accounts = out.control_accounts;
    const auto done = std::chrono::steady_clock::now();
    r.policy_seconds = std::chrono::duration<double>(done - decided).count();
    r.decide_seconds = std::chrono::duration<double>(recording - decided).count();
    r.record_seconds = std::chrono::duration<double>(committing - recording).count();
    r.commit_seconds = std::chrono::duration<double>(done - committing).count();
  } catch (...) {
    l.rollback();
    throw;
  }
  return r;
}

}  // namespace nudge::runtime
