// The contact policy of one night, applied to the plays that fired: holdout, arbitration,
// quiet periods and caps, approval, pilot and CSM capacity, against the ledger's history.
// Pure: it reads the history and returns every decision; recording them is the caller's
// job (runtime/night_job.hpp). Semantics: docs/policy.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "compiler/ir.hpp"
#include "runtime/ledger.hpp"

namespace nudge::runtime {

// A play that fired for an account tonight, rendered. The texts are views: `record` into
// the night's text arenas (night_candidates::texts), `csm` into the dataset's strings.
struct candidate {
  std::uint32_t account = 0;  // index in the dataset
  std::uint32_t play = 0;
  std::int32_t step = -1;
  std::uint8_t channel = 0;
  std::int64_t priority = 0;
  std::string offer_id;
  // The account's policy facts tonight (the same for each of its candidates).
  std::string_view csm;
  // Days a held action waits for its CSM: the longest `expires` of the approval rules whose
  // condition holds for the account; 0 when none does (no approval needed).
  std::int64_t approval_days = 0;
  std::uint64_t quiet = 0;     // bit q: the account is in quiet period q
  std::string_view record;     // the outbox record (JSON object) without the decision fields
  std::string_view task_row;   // its task CSV row, when the run writes one (night_options::task_rows)
};

struct policy_options {
  day_number night = 0;
  bool pilot = false;  // send only to the policy's pilot accounts; record the rest as would_send
  std::string rules_hash;
};

struct holdout_assignment {
  std::string account;
  std::string band;
  bool control = false;
};

struct night_decisions {
  std::vector<decision> decisions;  // in recording order
  std::vector<std::pair<std::int64_t, std::size_t>> releases;  // held id -> index of its `sent` decision
  std::vector<holdout_assignment> assignments;                // accounts seen for the first time
  std::size_t control_accounts = 0;                            // in the control group tonight
};

// `keys`: every account's key, in dataset order; `bands`: the holdout's stratifying value
// per account (NaN when absent), empty when the holdout has no `by`. Candidates are
// grouped by account, in dataset order.
night_decisions decide_night(const ir::module& m, const std::vector<std::string>& keys,
                             const std::vector<candidate>& candidates, const std::vector<double>& bands,
                             const history& past, const holdout_state& holdout, const policy_options& o);

// The oldest night whose touches a cap or capacity of the policy can count, tonight included.
day_number history_start(const ir::policy_code& p, day_number night);

// Holdout helpers, exposed for tests and docs/policy.md: the revenue band of a value
// (half-decades: band n holds [10^(n/2), 10^((n+1)/2)); "none" for absent or <= 0) and the
// salted hash that orders accounts within a band.
std::string revenue_band(double value);
std::uint64_t holdout_hash(std::string_view salt, std::string_view key);

// A record with the decision's fields appended (decision, reason, detail, key, and
// deferred_since / expires when set); append_decision does it in place.
std::string with_decision(std::string_view record, const decision& d);
void append_decision(std::string& record, const decision& d);

// The decision's whole record: `record` when it holds one, else `rendered` with the
// decision's fields appended (see decision::rendered). The second form appends to `out`.
std::string full_record(const decision& d);
void append_full_record(std::string& out, const decision& d);

}  // namespace nudge::runtime
