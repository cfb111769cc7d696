// The contact policy against the touch ledger, night after night: each cap kind and its
// clock, arbitration and its ties, quiet periods, CSM capacity, deferral, approval end to
// end, holdout share and stability, pilot, dry run, idempotent re-runs and refusals.
// Semantics: docs/policy.md.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "compiler/check.hpp"
#include "compiler/lower.hpp"
#include "runtime/cells.hpp"
#include "runtime/load.hpp"
#include "runtime/night_job.hpp"
#include "runtime/policy.hpp"
#include "runtime/synthetic.hpp"
#include "test_util.hpp"

using namespace nudge;
namespace fs = std::filesystem;

namespace {

runtime::day_number day(const char* iso) { return *runtime::parse_date(iso); }

// Signals sa..sd fire for an account when its column a..d is 1. Plays and the policy are
// given by each test.
const std::string schema = R"(
schema {
  history 1d
  tier: enum(smb, enterprise)
  csm: text?
  mrr: money(KZT)
  renewal_date: date?
  a: int
  b: int
  c: int
  d: int
}
signal sa { when a == 1 }
signal sb { when b == 1 }
signal sc { when c == 1 }
signal sd { when d == 1 }
)";

std::string play(const std::string& name, const std::string& signal, const std::string& settings) {
  return "play " + name + " on " + signal + " {\n  " + settings +
         "\n  why_now \"{mrr}\"\n  offer \"o\"\n  next_step \"n\"\n}\n";
}

struct row {
  std::string account;
  std::string tier = "smb";
  std::string csm = "";
  int a = 0, b = 0, c = 0, d = 0;
  std::string renewal = "2027-06-01";
  std::string mrr = "100000";
};

// One rule set, one ledger file, nights run one by one.
struct ledger_fixture {
  diagnostic_sink sink;
  compiler::rule_set rules;
  compiler::program checked;
  ir::module lowered;
  fs::path dir;
  std::string ledger;

  explicit ledger_fixture(const std::string& plays_and_policy) {
    rules = compiler::from_text("t.rule", schema + plays_and_policy, sink);
    checked = compiler::check(rules, sink);
    for (const diagnostic& d : sink.all()) {
      if (d.sev == severity::error) FAIL("rules do not check: " << d.message);
    }
    lowered = compiler::lower(rules, checked);
    dir = nudge::test::temp_dir("nudge_policy_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir);
    fs::create_directories(dir);
    ledger = (dir / "ledger.db").string();
  }
  ~ledger_fixture() { fs::remove_all(dir); }

  runtime::job_result night(const char* iso, const std::vector<row>& rows, runtime::job_options o = {}) {
    std::string csv = "account_id,date,tier,csm,mrr,renewal_date,a,b,c,d\n";
    for (const row& r : rows) {
      csv += r.account + "," + iso + "," + r.tier + "," + r.csm + "," + r.mrr + "," + r.renewal + "," +
             std::to_string(r.a) + "," + std::to_string(r.b) + "," + std::to_string(r.c) + "," + std::to_string(r.d) +
             "\n";
    }
    test::write_file(dir / "data" / "accounts.csv", csv);
    runtime::load_result loaded = runtime::load_data(dir / "data", checked, lowered, day(iso));
    REQUIRE_FALSE(loaded.fatal);
    if (o.ledger.empty()) o.ledger = ledger;
    o.night.rules_hash = "test";
    return runtime::run_job(rules, checked, lowered, loaded.data, o);
  }
};

// "account/play: status reason" for each decision of a night.
std::vector<std::string> summary(const runtime::job_result& r) {
  std::vector<std::string> out;
  for (const auto& d : r.decisions) {
    out.push_back(d.account + "/" + d.play + ": " + std::string(runtime::status_names[static_cast<int>(d.what)]) +
                  (d.reason.empty() ? "" : " " + d.reason));
  }
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("policy: a rolling cap per account counts earlier nights from the ledger", "[policy]") {
  ledger_fixture f(play("pa", "sa", "channel email") + "policy { locales en  cap 1 per account per 7d as weekly }");
  const std::vector<row> rows{{.account = "x", .a = 1}};
  CHECK(summary(f.night("2026-03-01", rows)) == strings{"x/pa: sent"});
  for (const char* n : {"2026-03-02", "2026-03-05", "2026-03-07"}) {
    const auto r = f.night(n, rows);
    CHECK(summary(r) == strings{"x/pa: suppressed weekly"});
    CHECK(r.decisions.front().detail == "1 touch(es) already in 7 days, the cap allows 1");
  }
  CHECK(summary(f.night("2026-03-08", rows)) == strings{"x/pa: sent"});  // 03-01 left the 7 nights
}

TEST_CASE("policy: per-channel caps and a cap on one channel", "[policy]") {
  ledger_fixture f(play("mail", "sa", "channel email") + play("app", "sb", "channel in_app priority 40") +
                   play("ring", "sc", "channel call priority 30") +
                   "policy { locales en  cap 1 per account per channel per 30d as per_channel\n"
                   "  cap 1 per account on call per week as call_week }");
  CHECK(summary(f.night("2026-03-02", {{.account = "x", .a = 1}})) == strings{"x/mail: sent"});
  // Another channel is free; the same channel is not.
  CHECK(summary(f.night("2026-03-03", {{.account = "x", .b = 1}})) == strings{"x/app: sent"});
  CHECK(summary(f.night("2026-03-04", {{.account = "x", .a = 1}})) == strings{"x/mail: suppressed per_channel"});
  // Calls: a calendar week, Monday to Sunday (2026-03-02 is a Monday). The 30-day cap per
  // channel would block a second call too, so these run on a fresh account per week.
  CHECK(summary(f.night("2026-03-08", {{.account = "y", .c = 1}})) == strings{"y/ring: sent"});  // Sunday
  CHECK(summary(f.night("2026-03-09", {{.account = "z", .c = 1}})) == strings{"z/ring: sent"});  // next Monday
}

TEST_CASE("policy: a calendar-week cap resets on Monday, a rolling one does not", "[policy]") {
  ledger_fixture f(play("ring", "sc", "channel call") + "policy { locales en  cap 1 per account on call per week as call_week }");
  const std::vector<row> rows{{.account = "x", .c = 1}};
  CHECK(summary(f.night("2026-03-08", rows)) == strings{"x/ring: sent"});  // Sunday
  CHECK(summary(f.night("2026-03-09", rows)) == strings{"x/ring: sent"});  // Monday: a new week
  CHECK(summary(f.night("2026-03-15", rows)) == strings{"x/ring: suppressed call_week"});  // Sunday, same week
}

TEST_CASE("policy: at most one channel per account per day, also against an approved release", "[policy]") {
  ledger_fixture f(play("mail", "sa", "channel email priority 90") + play("app", "sb", "channel in_app priority 10") +
                   "policy { locales en  cap 1 channel per account per day as one_channel_a_day\n"
                   "  approval by csm when tier == enterprise expires 3d }");
  const auto held = f.night("2026-03-01", {{.account = "x", .tier = "enterprise", .csm = "ann", .a = 1}});
  REQUIRE(summary(held) == strings{"x/mail: held approval"});
  {
    runtime::ledger l(f.ledger);
    REQUIRE(l.decide(held.decisions.front().id, true, "ann") == std::nullopt);
  }
  // Tonight the approved email goes out; the in-app message would be a second channel today.
  const auto r = f.night("2026-03-02", {{.account = "x", .tier = "smb", .b = 1}});
  CHECK(summary(r) == strings{"x/mail: sent approved", "x/app: suppressed one_channel_a_day"});
}

TEST_CASE("policy: the same offer not again within its window, whichever play carries it", "[policy]") {
  ledger_fixture f(play("first", "sa", "channel email offer_id \"bundle\"") +
                   play("second", "sb", "channel in_app offer_id \"bundle\"") +
                   play("other", "sc", "channel in_app offer_id \"training\"") +
                   "policy { locales en  cap same offer per account per 90d as same_offer_90d }");
  CHECK(summary(f.night("2026-01-01", {{.account = "x", .a = 1}})) == strings{"x/first: sent"});
  const auto r = f.night("2026-03-01", {{.account = "x", .b = 1}});
  CHECK(summary(r) == strings{"x/second: suppressed same_offer_90d"});
  CHECK(r.decisions.front().detail == "offer `bundle` was already sent on 2026-01-01");
  CHECK(summary(f.night("2026-03-02", {{.account = "x", .c = 1}})) == strings{"x/other: sent"});
  CHECK(summary(f.night("2026-04-01", {{.account = "x", .b = 1}})) == strings{"x/second: sent"});  // 90 nights later
}

TEST_CASE("policy: a quiet period before renewal for chosen tiers, with exempt plays", "[policy]") {
  ledger_fixture f(play("upsell", "sa", "channel email priority 50") +
                   play("renewal_pack", "sb", "channel email priority 40") +
                   "policy { locales en  quiet 14d before renewal_date when tier == enterprise except renewal_pack }");
  const auto r = f.night("2026-03-01", {{.account = "ent", .tier = "enterprise", .a = 1, .renewal = "2026-03-10"},
                                        {.account = "ent2", .tier = "enterprise", .b = 1, .renewal = "2026-03-10"},
                                        {.account = "late", .tier = "enterprise", .a = 1, .renewal = "2026-03-16"},
                                        {.account = "small", .tier = "smb", .a = 1, .renewal = "2026-03-10"}});
  CHECK(summary(r) == strings{"ent/upsell: suppressed quiet_before_renewal_date", "ent2/renewal_pack: sent",
                              "late/upsell: sent", "small/upsell: sent"});
}

TEST_CASE("policy: arbitration picks the highest priority, ties by play name, losers recorded", "[policy]") {
  ledger_fixture f(play("zeta", "sa", "channel email priority 70") + play("alpha", "sb", "channel in_app priority 70") +
                   play("top", "sc", "channel email priority 90") + "policy { locales en }");
  auto r = f.night("2026-03-01", {{.account = "x", .a = 1, .b = 1}, {.account = "y", .a = 1, .b = 1, .c = 1}});
  CHECK(summary(r) == strings{"x/alpha: sent", "x/zeta: suppressed arbitration", "y/top: sent",
                              "y/alpha: suppressed arbitration", "y/zeta: suppressed arbitration"});
  CHECK(r.decisions[1].detail == "lost to alpha (priority 70)");
}

TEST_CASE("policy: CSM capacity defers what does not fit to the next night, oldest first", "[policy]") {
  ledger_fixture f(play("task", "sa", "channel csm_task") + "policy { locales en  capacity 2 per csm per day }");
  std::vector<row> rows;
  for (const char* a : {"a1", "a2", "a3"}) rows.push_back({.account = a, .csm = "ann", .a = 1});
  rows.push_back({.account = "b1", .csm = "bob", .a = 1});
  auto r = f.night("2026-03-01", rows);
  CHECK(summary(r) == strings{"a1/task: sent", "a2/task: sent", "a3/task: deferred capacity", "b1/task: sent"});
  // Next night a3 waited longest: it goes first, ahead of the accounts that fire again.
  rows.push_back({.account = "a0", .csm = "ann", .a = 1});
  r = f.night("2026-03-02", rows);
  std::map<std::string, std::string> by;
  for (const auto& d : r.decisions) by[d.account] = std::string(runtime::status_names[static_cast<int>(d.what)]);
  CHECK(by["a3"] == "sent");
  CHECK(by["a0"] == "sent");  // a0 sorts before a1, a2 at equal priority and age
  CHECK(by["a1"] == "deferred");
  CHECK(by["a2"] == "deferred");
}

TEST_CASE("policy: if_capped defer retries while valid, then gives up; suppress records at once", "[policy]") {
  ledger_fixture f(play("first", "sa", "channel email priority 90") +
                   play("patient", "sb", "channel email priority 10 if_capped defer up to 2d") +
                   play("rash", "sc", "channel email priority 10") +
                   "policy { locales en  cap 1 per account per 30d as monthly }");
  CHECK(summary(f.night("2026-03-01", {{.account = "x", .a = 1}, {.account = "y", .a = 1}})) ==
        strings{"x/first: sent", "y/first: sent"});
  CHECK(summary(f.night("2026-03-02", {{.account = "x", .b = 1}, {.account = "y", .c = 1}})) ==
        strings{"x/patient: deferred monthly", "y/rash: suppressed monthly"});
  CHECK(summary(f.night("2026-03-03", {{.account = "x", .b = 1}})) == strings{"x/patient: deferred monthly"});
  const auto r = f.night("2026-03-04", {{.account = "x", .b = 1}});
  CHECK(summary(r) == strings{"x/patient: suppressed monthly"});
  CHECK(r.decisions.front().detail.ends_with("deferred since 2026-03-02, gave up"));
  // A deferral whose play stops firing is closed, not left open.
  ledger_fixture g(play("first", "sa", "channel email priority 90") +
                   play("patient", "sb", "channel email priority 10 if_capped defer") +
                   "policy { locales en  cap 1 per account per 30d as monthly }");
  g.night("2026-03-01", {{.account = "x", .a = 1}});
  CHECK(summary(g.night("2026-03-02", {{.account = "x", .b = 1}})) == strings{"x/patient: deferred monthly"});
  CHECK(summary(g.night("2026-03-03", {{.account = "x"}})) == strings{"x/patient: expired signal_stopped"});
}

TEST_CASE("policy: approval holds, releases approved actions next night, rejects and expires", "[policy][approval]") {
  ledger_fixture f(play("offer", "sa", "channel email offer_id \"big\"") +
                   "policy { locales en  cap same offer per account per 90d as same_offer\n"
                   "  approval by csm when tier == enterprise expires 2d }");
  std::vector<row> rows;
  for (const char* a : {"e1", "e2", "e3"}) rows.push_back({.account = a, .tier = "enterprise", .csm = "ann", .a = 1});
  rows.push_back({.account = "s1", .a = 1});
  auto r = f.night("2026-03-01", rows);
  REQUIRE(summary(r) ==
          strings{"e1/offer: held approval", "e2/offer: held approval", "e3/offer: held approval", "s1/offer: sent"});
  CHECK(r.decisions[0].expires == day("2026-03-03"));
  {
    runtime::ledger l(f.ledger);
    CHECK(l.approvals(true).size() == 3);
    CHECK(l.decide(r.decisions[0].id, true, "ann") == std::nullopt);
    CHECK(l.decide(r.decisions[1].id, false, "ann") == std::nullopt);
    CHECK(l.decide(r.decisions[1].id, true, "ann") == "decision #2 was already rejected");
    CHECK(l.decide(r.decisions[3].id, true, "ann") == "decision #4 is `sent`, not held for approval");
    CHECK(l.approvals(true).size() == 1);
  }
  r = f.night("2026-03-02", rows);
  CHECK(summary(r) == strings{"e1/offer: sent approved", "e1/offer: suppressed approved_tonight",
                              "e2/offer: suppressed rejected", "e3/offer: suppressed awaiting_approval",
                              "s1/offer: suppressed same_offer"});
  // The release counts against the caps from now on; e3 expires after its last night.
  r = f.night("2026-03-04", rows);
  CHECK(summary(r) == strings{"e3/offer: expired approval_expired", "e1/offer: suppressed same_offer",
                              "e2/offer: held approval", "e3/offer: held approval", "s1/offer: suppressed same_offer"});
  runtime::ledger l(f.ledger);
  const auto all = l.approvals(false);
  REQUIRE(all.size() == 5);
  CHECK(all[2].verdict == "expired");
}

TEST_CASE("policy: holdout share within one point on 100,000 generated accounts, stable and order-free", "[policy][holdout]") {
  const fs::path dir = nudge::test::temp_dir("nudge_holdout_test");
  fs::remove_all(dir);
  runtime::synthetic_options so;
  so.accounts = 100000;
  so.days = 1;
  so.last_day = day("2026-12-03");
  so.broken_rows = false;
  runtime::generate(dir, so);
  diagnostic_sink sink;
  const std::vector<std::string> paths{NUDGE_SOURCE_DIR "/rules-examples"};
  compiler::rule_set rules = compiler::load(paths, sink).rules;
  const compiler::program checked = compiler::check(rules, sink);
  REQUIRE(sink.error_count() == 0);
  const ir::module m = compiler::lower(rules, checked);
  REQUIRE(m.policy.holdout.size() == 1);
  runtime::load_result loaded = runtime::load_data(dir, checked, m, day("2026-12-03"));
  REQUIRE_FALSE(loaded.fatal);
  const auto& data = loaded.data;
  REQUIRE(data.accounts() == 100000);

  // Holdout alone: bands from mrr, no candidates.
  std::vector<std::string> keys;
  for (const auto& id : data.account_ids) keys.push_back(runtime::account_key(id));
  std::vector<double> bands;
  {
    runtime::night_candidates c;
    runtime::night_options o;
    runtime::run_night(rules, checked, m, loaded.data, o, nullptr, nullptr, &c);
    bands = c.bands;
  }
  REQUIRE(bands.size() == keys.size());
  runtime::policy_options po;
  po.night = day("2026-12-03");
  const auto first = runtime::decide_night(m, keys, {}, bands, {}, {}, po);
  const double share = static_cast<double>(first.control_accounts) / 100000.0;
  CHECK(share == Approx(m.policy.holdout.front().share).margin(0.01));
  // Per band, too: the control group looks like the treated one.
  std::map<std::string, std::pair<int, int>> per_band;
  for (const auto& a : first.assignments) {
    per_band[a.band].first += 1;
    per_band[a.band].second += a.control ? 1 : 0;
  }
  for (const auto& [band, n] : per_band) {
    INFO("band " << band << ": " << n.second << " of " << n.first);
    if (n.first >= 1000) CHECK(static_cast<double>(n.second) / n.first == Approx(0.10).margin(0.01));
  }
  // Independent of the order of the input: the same accounts in reverse give the same group.
  std::vector<std::string> rkeys(keys.rbegin(), keys.rend());
  std::vector<double> rbands(bands.rbegin(), bands.rend());
  const auto reversed = runtime::decide_night(m, rkeys, {}, rbands, {}, {}, po);
  std::set<std::string> a, b;
  for (const auto& x : first.assignments) if (x.control) a.insert(x.account);
  for (const auto& x : reversed.assignments) if (x.control) b.insert(x.account);
  CHECK(a == b);
  // Stable across nights: once recorded, an account keeps its group even when new accounts
  // join its band; only a new salt moves it.
  runtime::holdout_state recorded;
  for (const auto& x : first.assignments) {
    recorded.control[x.account] = x.control;
    auto& band = recorded.bands[x.band];
    band.first += 1;
    band.second += x.control ? 1 : 0;
  }
  std::vector<std::string> more = keys;
  std::vector<double> more_bands = bands;
  for (int i = 0; i < 5000; ++i) {
    more.push_back("new-" + std::to_string(i));
    more_bands.push_back(150000);
  }
  const auto later = runtime::decide_night(m, more, {}, more_bands, {}, recorded, po);
  CHECK(later.assignments.size() == 5000);  // only the new accounts are assigned
  std::size_t control = 0;
  for (const auto& x : later.assignments) control += x.control ? 1 : 0;
  CHECK(static_cast<double>(control) / 5000 == Approx(0.10).margin(0.01));
  ir::module salted = m;
  salted.policy.holdout.front().salt = "2027-Q1";
  const auto reshuffled = runtime::decide_night(salted, keys, {}, bands, {}, {}, po);
  std::set<std::string> c;
  for (const auto& x : reshuffled.assignments) if (x.control) c.insert(x.account);
  std::size_t moved = 0;
  for (const auto& k : a) moved += c.contains(k) ? 0 : 1;
  CHECK(moved > 8000);  // a new salt draws a new group: about 90% of the old one leaves it
  fs::remove_all(dir);
}

TEST_CASE("policy: control accounts get no action; what they would have got is recorded", "[policy][holdout]") {
  ledger_fixture f(play("offer", "sa", "channel email") + "policy { locales en  holdout 50% salt \"s\" }");
  std::vector<row> rows;
  for (int i = 0; i < 40; ++i) rows.push_back({.account = "acc-" + std::to_string(i), .a = 1});
  const auto r = f.night("2026-03-01", rows);
  std::size_t held_out = 0, sent = 0;
  for (const auto& d : r.decisions) {
    held_out += d.what == runtime::status::held_out ? 1 : 0;
    sent += d.what == runtime::status::sent ? 1 : 0;
  }
  CHECK(held_out == 20);
  CHECK(sent == 20);
  CHECK(r.control_accounts == 20);
  // The next night keeps the same accounts in control.
  const auto again = f.night("2026-03-02", rows);
  for (std::size_t i = 0; i < r.decisions.size(); ++i) {
    CHECK((r.decisions[i].what == runtime::status::held_out) == (again.decisions[i].reason == "holdout"));
  }
}

TEST_CASE("policy: --pilot sends only to the allow-list, --dry-run records nothing", "[policy]") {
  ledger_fixture f(play("offer", "sa", "channel email") + "policy { locales en  pilot [\"Friend LLC\"] }");
  const std::vector<row> rows{{.account = "friend", .a = 1}, {.account = "stranger", .a = 1}};
  runtime::job_options dry;
  dry.dry_run = true;
  CHECK(summary(f.night("2026-03-01", rows, dry)) == strings{"friend/offer: sent", "stranger/offer: sent"});
  {
    runtime::ledger l(f.ledger);
    CHECK(l.latest_night() == std::nullopt);
    CHECK(l.decisions("", std::nullopt).empty());
  }
  runtime::job_options pilot;
  pilot.pilot = true;
  CHECK(summary(f.night("2026-03-01", rows, pilot)) == strings{"friend/offer: sent", "stranger/offer: would_send pilot"});
  runtime::ledger l(f.ledger);
  CHECK(l.night(day("2026-03-01"))->mode == "pilot");
}

TEST_CASE("policy: the same night twice decides nothing new; an older night needs --force", "[policy]") {
  ledger_fixture f(play("offer", "sa", "channel email") + "policy { locales en  cap 1 per account per 7d }");
  const std::vector<row> rows{{.account = "x", .a = 1}, {.account = "y", .a = 1}};
  const auto first = f.night("2026-03-02", rows);
  REQUIRE(first.outcome == runtime::job_outcome::decided);
  const auto again = f.night("2026-03-02", rows);
  CHECK(again.outcome == runtime::job_outcome::replayed);
  REQUIRE(again.decisions.size() == first.decisions.size());
  for (std::size_t i = 0; i < first.decisions.size(); ++i) {
    CHECK(runtime::outbox_line(again.decisions[i]) == runtime::outbox_line(first.decisions[i]));
  }
  {
    runtime::ledger l(f.ledger);
    CHECK(l.decisions("", std::nullopt).size() == 2);
  }
  const auto older = f.night("2026-03-01", rows);
  CHECK(older.outcome == runtime::job_outcome::refused);
  CHECK(older.message.find("Pass --force") != std::string::npos);
  runtime::job_options force;
  force.force = true;
  CHECK(f.night("2026-03-01", rows, force).outcome == runtime::job_outcome::decided);
}

TEST_CASE("policy: a second run against a ledger being written is refused", "[policy]") {
  ledger_fixture f(play("offer", "sa", "channel email") + "policy { locales en }");
  f.night("2026-03-01", {{.account = "x", .a = 1}});
  runtime::ledger holder(f.ledger);
  REQUIRE(holder.begin_night());
  const auto r = f.night("2026-03-02", {{.account = "x", .a = 1}});
  CHECK(r.outcome == runtime::job_outcome::refused);
  CHECK(r.message.find("another nudge run is writing to the ledger") != std::string::npos);
  holder.rollback();
  CHECK(f.night("2026-03-02", {{.account = "x", .a = 1}}).outcome == runtime::job_outcome::decided);
}

TEST_CASE("policy: a file that is not a ledger, or one from a newer nudge, is refused with a message", "[policy]") {
  const fs::path dir = nudge::test::temp_dir("nudge_bad_ledger");
  fs::remove_all(dir);
  fs::create_directories(dir);
  test::write_file(dir / "junk.db", "this is not a database, it is a shopping list\n");
  CHECK_THROWS_WITH(runtime::ledger((dir / "junk.db").string()), Catch::Contains("cannot be used"));
  fs::remove_all(dir);
}

TEST_CASE("policy: decision fields appended to a record are valid JSON whatever the texts hold", "[policy]") {
  runtime::decision d;
  d.night = day("2026-03-01");
  d.account = "ромашка \"best\"\n";
  d.play = "p";
  d.what = runtime::status::suppressed;
  d.reason = "weekly";
  d.detail = "лимит\t\x01 \xff";  // control characters and a byte that is not UTF-8
  d.since = day("2026-02-27");
  const auto j = nlohmann::json::parse(runtime::with_decision(R"({"account":"x"})", d));
  CHECK(j["account"] == "x");
  CHECK(j["decision"] == "suppressed");
  CHECK(j["reason"] == "weekly");
  CHECK(j["key"] == "2026-03-01/ромашка \"best\"\n/p");
  CHECK(j["deferred_since"] == "2026-02-27");
  CHECK(j["detail"].get<std::string>().starts_with("лимит\t\x01 "));
  d.reason.clear();
  d.detail.clear();
  const auto e = nlohmann::json::parse(runtime::with_decision("{}", d));
  CHECK(e["reason"].is_null());
  CHECK(e["detail"].is_null());
}

TEST_CASE("ledger: the queries of every night search indexes, never scan the decisions", "[policy][ledger]") {
  // A full scan per held action made the second night of 100,000 accounts take 178 s.
  ledger_fixture f(play("offer", "sa", "channel email if_capped defer") +
                   "policy { locales en  cap 1 per account per 7d  approval by csm when tier == enterprise }");
  f.night("2026-03-01", {{.account = "x", .a = 1}, {.account = "e", .tier = "enterprise", .a = 1}});
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(f.ledger.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  for (const std::string& q : runtime::ledger::history_queries()) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + q).c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::string plan;
    while (sqlite3_step(s) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 3))) + "\n";
    sqlite3_finalize(s);
    INFO(q << "\nplan:\n" << plan);
    // A scan of a partial index (only the open items) is fine; a scan of a table is not.
    for (const char* table : {"SCAN d\n", "SCAN e\n", "SCAN a\n", "SCAN decisions\n"}) {
      CHECK(plan.find(table) == std::string::npos);
    }
  }
  sqlite3_close(db);
}

TEST_CASE("policy: a control account's shadow task does not use up its CSM's capacity", "[policy][holdout]") {
  ledger_fixture f(play("task", "sa", "channel csm_task") +
                   "policy { locales en  capacity 1 per csm per 7d  holdout 50% salt \"s\" }");
  std::vector<row> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({.account = "acc-" + std::to_string(i), .csm = "ann"});
  f.night("2026-03-01", rows);  // nobody fires: only the holdout assignment
  runtime::holdout_state h;
  {
    runtime::ledger l(f.ledger);
    h = l.load_holdout("s");
  }
  std::vector<row> control;
  std::string treated;
  for (const row& r : rows) {
    if (h.control.at(r.account)) control.push_back({.account = r.account, .csm = "ann", .a = 1});
    else if (treated.empty()) treated = r.account;
  }
  REQUIRE_FALSE(control.empty());
  REQUIRE_FALSE(treated.empty());
  for (const auto& d : f.night("2026-03-02", control).decisions) CHECK(d.what == runtime::status::held_out);
  // Ann was given no task yet: the treated account's task fits her capacity.
  CHECK(summary(f.night("2026-03-03", {{.account = treated, .csm = "ann", .a = 1}})) ==
        strings{treated + "/task: sent"});
}

TEST_CASE("policy: a held action waits as long as the approval lines that hold for it say", "[policy][approval]") {
  // Enterprise accounts wait 2 days; large ones 9. A small enterprise account gets 2, not
  // the longest of all the policy's lines.
  ledger_fixture f(play("mail", "sa", "channel email") +
                   "policy { locales en  cap 1 per account per 7d\n"
                   "  approval by csm when tier == enterprise expires 2d\n"
                   "  approval by csm when mrr > 500000 KZT expires 9d }");
  const auto r = f.night("2026-03-01", {{.account = "small", .tier = "enterprise", .a = 1},
                                        {.account = "large", .tier = "enterprise", .a = 1, .mrr = "900000"},
                                        {.account = "big_smb", .a = 1, .mrr = "900000"},
                                        {.account = "plain", .a = 1}});
  std::map<std::string, std::string> expires;
  for (const runtime::decision& d : r.decisions) expires[d.account] = d.expires ? runtime::iso_date(*d.expires) : "-";
  CHECK(expires == std::map<std::string, std::string>{
                       {"small", "2026-03-03"}, {"large", "2026-03-10"}, {"big_smb", "2026-03-10"}, {"plain", "-"}});
}
