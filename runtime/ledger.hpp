// The touch ledger: every decision of every night about every account (sent, suppressed,
// deferred, held for approval, expired, held out, would send), the CSMs' approvals and the
// holdout assignments, in SQLite (WAL). It is the only record caps count, the account's
// contact calendar and the audit trail. Schema and semantics: docs/policy.md#the-ledger.
//
// One night is one transaction: begin_night() takes the write lock (a second run against
// the same ledger is refused, never interleaved) and commit() makes the whole night
// durable at once, so a run killed at any point leaves the ledger as it was before it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/time.hpp"

struct sqlite3;

namespace nudge::runtime {

enum class status : std::uint8_t { sent, suppressed, deferred, held, expired, held_out, would_send };
inline constexpr std::string_view status_names[] = {"sent",    "suppressed", "deferred", "held",
                                                    "expired", "held_out",   "would_send"};
std::optional<status> status_of(std::string_view name);

// One decision about one action on one night: a row of the ledger.
struct decision {
  std::int64_t id = 0;  // assigned when recorded
  day_number night = 0;
  std::string account;  // the account key (runtime::account_key)
  std::string play;
  std::string step;  // empty when the play has no steps
  std::uint8_t channel = 0;
  std::string offer_id;
  std::int64_t priority = 0;
  std::string csm;
  status what = status::sent;
  std::string reason;  // machine-readable: a cap's name, `arbitration`, `capacity`, ...
  std::string detail;  // for people: "lost to renewal_pack (priority 90)"
  std::optional<day_number> since;    // deferred: the night a cap first blocked it
  std::optional<day_number> expires;  // held: the last night an approval can release it
  std::int64_t origin = 0;            // the held or deferred decision this one resolves
  std::string rules_hash;
  // The night's outbox record (JSON, one line). A decision read from the ledger, or carried
  // from an earlier night, holds it whole in `record`. One the policy made tonight holds
  // only `rendered`, the candidate's record without the decision fields (a view into the
  // night's text arenas, job_result::texts), and the whole record is written from it when
  // it is recorded and written out (runtime::full_record): a night of a million accounts
  // would otherwise copy 1.5 GB of records into fresh memory.
  std::string record;
  std::string_view rendered;
  std::string_view task_row;  // tonight's: its task CSV row, when the run writes the CSV
};

// A touch that counts against caps: sent, or held out (a control account's shadow touch).
struct touch {
  day_number night = 0;
  std::uint8_t channel = 0;
  std::string offer_id;
  std::string csm;
  bool held_out = false;  // a control account's: counts for its caps, not for a CSM's capacity
};

struct open_item {
  std::int64_t id = 0;
  day_number night = 0;
  std::optional<day_number> since;
  std::optional<day_number> expires;
  bool rejected = false;  // held: a CSM rejected it
};

// What the policy needs from earlier nights.
struct history {
  std::unordered_map<std::string, std::vector<touch>> touches;  // per account, by night
  // Open deferrals and actions awaiting approval, per account and play.
  std::map<std::pair<std::string, std::string>, open_item> deferred;
  std::map<std::pair<std::string, std::string>, open_item> held;
  std::vector<decision> to_release;  // approved, not yet released (the held decisions)
  std::vector<std::string> released_by;  // parallel: who approved
  std::vector<decision> to_expire;   // held past their last night, never decided
};

struct holdout_state {
  std::unordered_map<std::string, bool> control;  // account -> in the control group
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> bands;  // band -> (accounts, control)
};

struct night_row {
  day_number night = 0;
  std::string rules_hash;
  std::string mode;
};

struct approval_item {
  decision held;
  std::string verdict;  // empty while open
  std::string decided_by;
};

class ledger {
 public:
  // Opens the ledger at `path`, creating it and applying migrations when needed; ":memory:"
  // is a scratch ledger (backtests, runs without --ledger). Throws ledger_error.
  // With may_migrate false (dry runs), a ledger of an older schema is refused rather than
  // migrated.
  explicit ledger(const std::string& path, int busy_timeout_ms = 0, bool may_migrate = true);
  ~ledger();
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

  // Takes the write lock and starts the night's transaction. Returns false when another
  // process holds the lock (after the busy timeout).
  bool begin_night();
  void commit();
  void rollback();

  std::optional<day_number> latest_night();
  std::optional<night_row> night(day_number n);

  // Touches of nights [from, to) and the open items as of night `to`.
  history load_history(day_number from, day_number to);
  holdout_state load_holdout(const std::string& salt);

  // Within begin_night() .. commit().
  // Records the decision with `record` as its record (the whole one, decision fields
  // included) and sets its id.
  void insert(decision& d, std::string_view record);
  void record_release(std::int64_t held, std::int64_t released);
  void assign_holdout(const std::string& salt, const std::string& account, const std::string& band, bool control,
                      day_number n);
  void record_night(const night_row& row, std::size_t decisions);

  // Every decision, in the order recorded; an empty filter matches all.
  std::vector<decision> decisions(const std::string& account, std::optional<day_number> n);

  // Approvals (their own short transactions).
  std::vector<approval_item> approvals(bool open_only);
  // Returns an error message, or nullopt when the verdict was recorded.
  std::optional<std::string> decide(std::int64_t held, bool approve, const std::string& by);

  static constexpr int schema_version = 1;

  // The queries every night runs against the whole ledger (load_history), for a test that
  // their plans use indexes: a ledger grows by a million rows a night on a large book.
  static const std::vector<std::string>& history_queries();

 private:
  void exec(const char* sql);
  void migrate(bool may_migrate);

  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
  struct statements;
  std::unique_ptr<statements> st_;
};

struct ledger_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace nudge::runtime
