#include "runtime/ledger.hpp"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "compiler/program.hpp"

namespace nudge::runtime {
namespace {

// Each migration takes the schema from version i to i + 1. Never edit one that shipped:
// append a new one.
constexpr const char* migrations[] = {
    R"sql(
CREATE TABLE nights(
  night TEXT PRIMARY KEY,            -- the as-of date, YYYY-MM-DD
  rules_hash TEXT NOT NULL,          -- the rule version that decided it
  mode TEXT NOT NULL,                -- live | pilot
  recorded_at TEXT NOT NULL,         -- UTC wall clock, for people only
  decisions INTEGER NOT NULL);
CREATE TABLE decisions(
  id INTEGER PRIMARY KEY,
  night TEXT NOT NULL REFERENCES nights(night),
  account TEXT NOT NULL,             -- the account key
  play TEXT NOT NULL,
  step TEXT NOT NULL,                -- '' when the play has no steps
  channel TEXT NOT NULL,
  offer_id TEXT NOT NULL,
  priority INTEGER NOT NULL,
  csm TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('sent','suppressed','deferred','held','expired','held_out','would_send')),
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  since TEXT,                        -- deferred: first night a cap blocked it
  expires TEXT,                      -- held: last night an approval can release it
  origin INTEGER REFERENCES decisions(id),
  rules_hash TEXT NOT NULL,
  record TEXT NOT NULL);             -- the outbox record (JSON)
CREATE INDEX decisions_by_account ON decisions(account, play, id);
CREATE INDEX decisions_by_night ON decisions(night);
CREATE INDEX decisions_deferred ON decisions(account, play, id) WHERE status = 'deferred';
CREATE INDEX decisions_held ON decisions(id) WHERE status = 'held';
CREATE INDEX decisions_by_origin ON decisions(origin) WHERE origin IS NOT NULL;
CREATE TABLE approvals(
  held INTEGER PRIMARY KEY REFERENCES decisions(id),
  verdict TEXT NOT NULL CHECK (verdict IN ('approved','rejected')),
  decided_at TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  released INTEGER REFERENCES decisions(id));
CREATE INDEX approvals_unreleased ON approvals(held) WHERE verdict = 'approved' AND released IS NULL;
CREATE TABLE holdout(
  salt TEXT NOT NULL,
  account TEXT NOT NULL,
  band TEXT NOT NULL,
  control INTEGER NOT NULL,
  night TEXT NOT NULL,
  PRIMARY KEY (salt, account));
)sql",
};
static_assert(std::size(migrations) == ledger::schema_version);

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class stmt {
 public:
  stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) {
      throw ledger_error(std::string("ledger: ") + sqlite3_errmsg(db));
    }
  }
  ~stmt() { sqlite3_finalize(s_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  stmt& reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    next_ = 1;
    return *this;
  }
  stmt& bind(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // The text must stay alive until step(): no copy.
  stmt& bind_static(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  stmt& bind(std::int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  stmt& bind_null() {
    sqlite3_bind_null(s_, next_++);
    return *this;
  }
  stmt& bind_day(std::optional<day_number> d) { return d ? bind(iso_date(*d)) : bind_null(); }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw ledger_error(std::string("ledger: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<day_number> day(int col) const {
    if (is_null(col)) return std::nullopt;
    return parse_date(text(col));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int next_ = 1;
};

constexpr const char* decision_columns =
    "id, night, account, play, step, channel, offer_id, priority, csm, status, reason, detail, since, expires, "
    "origin, rules_hash, record";

std::uint8_t channel_index(std::string_view name) {
  return static_cast<std::uint8_t>(compiler::channel_named(name).value_or(compiler::channel::email));
}

decision read_decision(const stmt& s) {
  decision d;
  d.id = s.integer(0);
  d.night = s.day(1).value_or(0);
  d.account = s.text(2);
  d.play = s.text(3);
  d.step = s.text(4);
  d.channel = channel_index(s.text(5));
  d.offer_id = s.text(6);
  d.priority = s.integer(7);
  d.csm = s.text(8);
  d.what = status_of(s.text(9)).value_or(status::suppressed);
  d.reason = s.text(10);
  d.detail = s.text(11);
  d.since = s.day(12);
  d.expires = s.day(13);
  d.origin = s.integer(14);
  d.rules_hash = s.text(15);
  d.record = s.text(16);
  return d;
}

}  // namespace

std::optional<status> status_of(std::string_view name) {
  for (std::size_t i = 0; i < std::size(status_names); ++i) {
    if (status_names[i] == name) return static_cast<status>(i);
  }
  return std::nullopt;
}

struct ledger::statements {
  explicit statements(sqlite3* db)
      : insert(db,
               "INSERT INTO decisions(night, account, play, step, channel, offer_id, priority, csm, status, reason, "
               "detail, since, expires, origin, rules_hash, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        assign(db, "INSERT OR IGNORE INTO holdout(salt, account, band, control, night) VALUES (?,?,?,?,?)") {}
  stmt insert;
  stmt assign;
};

ledger::ledger(const std::string& path, int busy_timeout_ms, bool may_migrate) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw ledger_error("cannot open the ledger `" + path + "`: " + msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  try {
    {
      stmt check(db_, "SELECT count(*) FROM sqlite_master");  // fails on a file that is not SQLite
      check.step();
    }
    exec("PRAGMA page_size=16384");  // rows carry ~1 KB of texts; takes effect on a new ledger only
    if (path != ":memory:") exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    // A night of a million accounts inserts a million rows into each index; with SQLite's
    // default 2,000-page cache the holdout's and the accounts' indexes spill to disk.
    exec("PRAGMA cache_size=-262144");  // 256 MiB
    exec("PRAGMA foreign_keys=ON");
    migrate(may_migrate);
    st_ = std::make_unique<statements>(db_);
  } catch (const ledger_error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw ledger_error("the ledger `" + path + "` cannot be used: " + std::string(e.what()));
  }
}

ledger::~ledger() {
  st_.reset();
  if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
}

void ledger::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    throw ledger_error(msg);
  }
}

void ledger::migrate(bool may_migrate) {
  std::int64_t version = 0;
  {
    stmt v(db_, "PRAGMA user_version");
    if (v.step()) version = v.integer(0);
  }
  if (version > schema_version) {
    throw ledger_error("it was written by a newer nudge (schema " + std::to_string(version) + ", this nudge knows " +
                       std::to_string(schema_version) + "); upgrade nudge");
  }
  if (version == schema_version) return;
  if (!may_migrate) {
    throw ledger_error("it has schema " + std::to_string(version) + " and needs migrating to " +
                       std::to_string(schema_version) + ", which a dry run does not do; run once without --dry-run");
  }
  exec("BEGIN IMMEDIATE");
  try {
    stmt again(db_, "PRAGMA user_version");  // another process may have migrated meanwhile
    if (again.step()) version = again.integer(0);
    for (auto v = version; v < schema_version; ++v) exec(migrations[v]);
    exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

bool ledger::begin_night() {
  const int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return false;
  if (rc != SQLITE_OK) throw ledger_error(std::string("ledger: ") + sqlite3_errmsg(db_));
  in_transaction_ = true;
  return true;
}

void ledger::commit() {
  exec("COMMIT");
  in_transaction_ = false;
}

void ledger::rollback() {
  if (!in_transaction_) return;
  exec("ROLLBACK");
  in_transaction_ = false;
}

std::optional<day_number> ledger::latest_night() {
  stmt s(db_, "SELECT max(night) FROM nights");
  if (s.step() && !s.is_null(0)) return parse_date(s.text(0));
  return std::nullopt;
}

std::optional<night_row> ledger::night(day_number n) {
  stmt s(db_, "SELECT rules_hash, mode FROM nights WHERE night = ?");
  s.bind(iso_date(n));
  if (!s.step()) return std::nullopt;
  return night_row{n, s.text(0), s.text(1)};
}

std::vector<decision> ledger::decisions(const std::string& account, std::optional<day_number> n) {
  stmt s(db_, (std::string("SELECT ") + decision_columns +
               " FROM decisions WHERE (?1 = '' OR account = ?1) AND (?2 IS NULL OR night = ?2) ORDER BY id")
                  .c_str());
  s.bind(account).bind_day(n);
  std::vector<decision> out;
  while (s.step()) out.push_back(read_decision(s));
  return out;
}

const std::vector<std::string>& ledger::history_queries() {
  static const std::vector<std::string> queries{
      // Touches of the nights caps can count.
      "SELECT account, night, channel, offer_id, csm, status FROM decisions "
      "WHERE night >= ? AND night < ? AND status IN ('sent', 'held_out') ORDER BY account, night, id",
      // Open deferrals: the latest decision per account and play is `deferred`.
      "SELECT d.id, d.account, d.play, d.night, d.since FROM decisions d WHERE d.status = 'deferred' AND d.night < ? "
      "AND NOT EXISTS (SELECT 1 FROM decisions e WHERE e.account = d.account AND e.play = d.play AND e.id > d.id)",
      // Held with no follow-up decision yet.
      std::string("SELECT ") + decision_columns +
          ", coalesce(a.verdict, '') FROM decisions d LEFT JOIN approvals a ON a.held = d.id "
          "WHERE d.status = 'held' AND d.night < ? AND coalesce(a.verdict, '') <> 'approved' "
          "AND NOT EXISTS (SELECT 1 FROM decisions e WHERE e.origin = d.id) ORDER BY d.id",
      // Approved, not yet released.
      std::string("SELECT ") + decision_columns +
          ", a.decided_by FROM approvals a JOIN decisions d ON d.id = a.held "
          "WHERE a.verdict = 'approved' AND a.released IS NULL AND d.night < ? ORDER BY d.id"};
  return queries;
}

history ledger::load_history(day_number from, day_number to) {
  history h;
  {
    stmt s(db_, history_queries()[0].c_str());
    s.bind(iso_date(from)).bind(iso_date(to));
    while (s.step()) {
      h.touches[s.text(0)].push_back(
          {s.day(1).value_or(0), channel_index(s.text(2)), s.text(3), s.text(4), s.text(5) == "held_out"});
    }
  }
  {
    // The latest decision per account and play is `deferred`: the deferral is open.
    stmt s(db_, history_queries()[1].c_str());
    s.bind(iso_date(to));
    while (s.step()) {
      h.deferred[{s.text(1), s.text(2)}] = {s.integer(0), s.day(3).value_or(0), s.day(4), std::nullopt};
    }
  }
  {
    // Held with no follow-up decision yet: awaiting a verdict, past its last night, or
    // rejected (the play stays suppressed for the account until the held action would
    // have expired, so a CSM does not reject the same offer every night).
    stmt s(db_, history_queries()[2].c_str());
    s.bind(iso_date(to));
    while (s.step()) {
      decision d = read_decision(s);
      const bool rejected = s.text(17) == "rejected";
      const bool past = d.expires && *d.expires < to;
      if (rejected) {
        if (!past) h.held[{d.account, d.play}] = {d.id, d.night, std::nullopt, d.expires, true};
      } else if (past) {
        h.to_expire.push_back(std::move(d));
      } else {
        h.held[{d.account, d.play}] = {d.id, d.night, std::nullopt, d.expires, false};
      }
    }
  }
  {
    stmt s(db_, history_queries()[3].c_str());
    s.bind(iso_date(to));
    while (s.step()) {
      h.to_release.push_back(read_decision(s));
      h.released_by.push_back(s.text(17));
    }
  }
  return h;
}

holdout_state ledger::load_holdout(const std::string& salt) {
  holdout_state out;
  stmt s(db_, "SELECT account, band, control FROM holdout WHERE salt = ?");
  s.bind(salt);
  while (s.step()) {
    const bool control = s.integer(2) != 0;
    out.control.emplace(s.text(0), control);
    auto& band = out.bands[s.text(1)];
    ++band.first;
    band.second += control ? 1 : 0;
  }
  return out;
}

void ledger::insert(decision& d, std::string_view record) {
  stmt& s = st_->insert.reset();
  s.bind(iso_date(d.night)).bind(d.account).bind(d.play).bind(d.step).bind(compiler::channel_names[d.channel]);
  s.bind(d.offer_id).bind(d.priority).bind(d.csm).bind(status_names[static_cast<int>(d.what)]).bind(d.reason);
  s.bind(d.detail).bind_day(d.since).bind_day(d.expires);
  if (d.origin != 0) s.bind(d.origin);
  else s.bind_null();
  s.bind(d.rules_hash).bind_static(record);
  s.step();
  d.id = sqlite3_last_insert_rowid(db_);
}

void ledger::record_release(std::int64_t held, std::int64_t released) {
  stmt s(db_, "UPDATE approvals SET released = ? WHERE held = ?");
  s.bind(released).bind(held);
  s.step();
}

void ledger::assign_holdout(const std::string& salt, const std::string& account, const std::string& band, bool control,
                            day_number n) {
  stmt& s = st_->assign.reset();
  s.bind(salt).bind(account).bind(band).bind(static_cast<std::int64_t>(control ? 1 : 0)).bind(iso_date(n));
  s.step();
}

void ledger::record_night(const night_row& row, std::size_t decisions) {
  stmt s(db_, "INSERT INTO nights(night, rules_hash, mode, recorded_at, decisions) VALUES (?,?,?,?,?)");
  s.bind(iso_date(row.night)).bind(row.rules_hash).bind(row.mode).bind(now_utc());
  s.bind(static_cast<std::int64_t>(decisions));
  s.step();
}

std::vector<approval_item> ledger::approvals(bool open_only) {
  std::string sql = std::string("SELECT ") + decision_columns +
                    ", coalesce(a.verdict, ''), coalesce(a.decided_by, ''), "
                    "EXISTS (SELECT 1 FROM decisions e WHERE e.origin = d.id AND e.status = 'expired') "
                    "FROM decisions d LEFT JOIN approvals a ON a.held = d.id WHERE d.status = 'held'";
  if (open_only) {
    sql += " AND a.held IS NULL AND NOT EXISTS (SELECT 1 FROM decisions e WHERE e.origin = d.id)";
  }
  sql += " ORDER BY d.id";
  stmt s(db_, sql.c_str());
  std::vector<approval_item> out;
  while (s.step()) {
    approval_item item{read_decision(s), s.text(17), s.text(18)};
    if (item.verdict.empty() && s.integer(19) != 0) item.verdict = "expired";
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<std::string> ledger::decide(std::int64_t held, bool approve, const std::string& by) {
  if (!begin_night()) return "another nudge run is writing to the ledger; try again when it finishes";
  try {
    stmt s(db_,
           "SELECT d.status, (SELECT verdict FROM approvals a WHERE a.held = d.id), "
           "EXISTS (SELECT 1 FROM decisions e WHERE e.origin = d.id AND e.status = 'expired'), d.expires "
           "FROM decisions d WHERE d.id = ?");
    s.bind(held);
    std::optional<std::string> error;
    if (!s.step()) {
      error = "no decision #" + std::to_string(held) + " in the ledger; `nudge approvals list` shows the held ones";
    } else if (s.text(0) != "held") {
      error = "decision #" + std::to_string(held) + " is `" + s.text(0) + "`, not held for approval";
    } else if (!s.is_null(1)) {
      error = "decision #" + std::to_string(held) + " was already " + s.text(1);
    } else if (s.integer(2) != 0) {
      error = "decision #" + std::to_string(held) + " expired on " + s.text(3) + " without a verdict";
    }
    if (error) {
      rollback();
      return error;
    }
    stmt ins(db_, "INSERT INTO approvals(held, verdict, decided_at, decided_by) VALUES (?,?,?,?)");
    ins.bind(held).bind(approve ? "approved" : "rejected").bind(now_utc()).bind(by);
    ins.step();
    commit();
  } catch (...) {
    rollback();
    throw;
  }
  return std::nullopt;
}

}  // namespace nudge::runtime
