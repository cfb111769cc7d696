// The real `nudge` binary on real files: output formats, exit codes, and what a user sees
// when an example rule set is broken.
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "runtime/ledger.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nudge::test::compare_golden;
using nudge::test::run_nudge;
using nudge::test::tests_dir;

TEST_CASE("cli: the shipped examples check clean, with --werror", "[cli]") {
  const auto r = run_nudge({"check", "--werror", "rules-examples/"}, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  CHECK(r.out.ends_with("nudge: 4 files checked, no problems (5 notes)\n"));
  CHECK(r.out.find("warning[") == std::string::npos);
}

TEST_CASE("cli: json, sarif and github formats match their golden files", "[cli]") {
  for (const std::string format : {"json", "sarif", "github", "text"}) {
    INFO("format " << format);
    const auto r = run_nudge({"check", "--color", "never", "--format", format, "cli/mixed.rule"}, tests_dir());
    CHECK(r.exit_code == 1);
    CHECK(r.err.empty());
    CHECK(compare_golden(tests_dir() / "cli" / ("mixed." + format), r.out) == "");
  }
}

TEST_CASE("cli: json lists each diagnostic with its full range", "[cli]") {
  const auto r = run_nudge({"check", "--format", "json", "cli/mixed.rule"}, tests_dir());
  const auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["diagnostics"].size() >= 2);
  const auto& first = doc["diagnostics"][0];
  CHECK(first["file"] == "cli/mixed.rule");
  CHECK(first["code"] == "E2001");
  CHECK(first["line"] == 8);
  CHECK(first["column"] == 27);
  CHECK(first["end_line"] == 8);
  CHECK(first["end_column"] == 30);
  CHECK(doc["errors"] == 1);
}

TEST_CASE("cli: sarif fingerprints survive an edit above the finding", "[cli]") {
  const fs::path dir = nudge::test::temp_dir("nudge_sarif_test");
  fs::create_directories(dir);
  const std::string text = nudge::test::read_file(tests_dir() / "cli" / "mixed.rule");
  nudge::test::write_file(dir / "a.rule", text);
  const auto before = nlohmann::json::parse(run_nudge({"check", "--format", "sarif", "a.rule"}, dir).out);
  nudge::test::write_file(dir / "a.rule", "# a new comment line\n\n" + text);
  const auto after = nlohmann::json::parse(run_nudge({"check", "--format", "sarif", "a.rule"}, dir).out);
  const auto& r0 = before["runs"][0]["results"][0];
  const auto& r1 = after["runs"][0]["results"][0];
  CHECK(r0["ruleId"] == r1["ruleId"]);
  CHECK(r1["locations"][0]["physicalLocation"]["region"]["startLine"] ==
        r0["locations"][0]["physicalLocation"]["region"]["startLine"].get<int>() + 2);
  CHECK(r0["partialFingerprints"] == r1["partialFingerprints"]);
  fs::remove_all(dir);
}

TEST_CASE("cli: warnings pass unless --werror", "[cli]") {
  CHECK(run_nudge({"check", "cli/warn_only.rule"}, tests_dir()).exit_code == 0);
  const auto r = run_nudge({"check", "--werror", "cli/warn_only.rule"}, tests_dir());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("warning[W5001]") != std::string::npos);
}

TEST_CASE("cli: usage and I/O problems exit 2 with a message on stderr", "[cli]") {
  auto r = run_nudge({"check", "no/such/file.rule"}, tests_dir());
  CHECK(r.exit_code == 2);
  CHECK(r.err == "nudge: error: cannot read `no/such/file.rule`: no such file or folder\n");
  r = run_nudge({"check", "--format", "xml", "cli/mixed.rule"}, tests_dir());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--format") != std::string::npos);
  r = run_nudge({"frobnicate"}, tests_dir());
  CHECK(r.exit_code == 2);
  r = run_nudge({"check"}, tests_dir());
  CHECK(r.exit_code == 2);
  r = run_nudge({"check", "cli/../../grammar"}, tests_dir());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("holds no .rule files") != std::string::npos);
  r = run_nudge({"--help"}, tests_dir());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("check") != std::string::npos);
}

TEST_CASE("cli: a broken copy of each example file gives a located error and exit 1", "[cli]") {
  struct breakage {
    std::string file;
    std::string from;
    std::string to;
    std::string expected;  // file:line:col: error[CODE]
  };
  const std::vector<breakage> cases{
      {"schema.rule", "mrr: money(KZT)", "mrr: money(KTZ)", "schema.rule:13:14: error[E2005]"},
      {"signals.rule", "pct_change(arpa, 60d)", "pct_change(arpa, 60)", "signals.rule:7:33: error[E3004]"},
      {"plays.rule", "on check_falling", "on check_fallin", "plays.rule:22:22: error[E2003]"},
      {"plays.rule", "{limit_used}\"", "{limit_use}\"", "plays.rule:12:88: error[E4002]"},
      {"policy.rule", "per 7d as weekly_offer", "per 0d as weekly_offer", "policy.rule:11:31: error[E4005]"},
  };
  const fs::path examples = fs::path(NUDGE_SOURCE_DIR) / "rules-examples";
  for (const breakage& b : cases) {
    INFO(b.file << ": " << b.from << " -> " << b.to);
    const fs::path dir = nudge::test::temp_dir("nudge_broken_example");
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& entry : fs::directory_iterator(examples)) {
      if (entry.path().extension() == ".rule") fs::copy_file(entry.path(), dir / entry.path().filename());
    }
    std::string text = nudge::test::read_file(dir / b.file);
    const auto at = text.find(b.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, b.from.size(), b.to);
    nudge::test::write_file(dir / b.file, text);
    const auto r = run_nudge({"check", "--color", "never", "."}, dir);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find(b.expected) != std::string::npos);
    fs::remove_all(dir);
  }
}

namespace {

std::string without_timing(const std::string& summary) {
  std::string out;
  std::istringstream in(summary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("  time:") == 0) continue;  // wall times differ run to run
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("cli: the shipped sample is exactly what nudge gen writes for its documented seed", "[cli][gen]") {
  const fs::path dir = nudge::test::temp_dir("nudge_gen_test");
  fs::remove_all(dir);
  const auto r = run_nudge({"gen", "--accounts", "150", "--days", "64", "--seed", "2026", "--last-day", "2026-12-03",
                            "--out", dir.string()},
                           NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  for (const char* f : {"accounts.csv", "tickets.csv", "transactions.csv"}) {
    INFO(f);
    CHECK(nudge::test::read_file(dir / f) ==
          nudge::test::read_file(fs::path(NUDGE_SOURCE_DIR) / "rules-examples" / "data" / f));
  }
  fs::remove_all(dir);
}

TEST_CASE("cli: a night on the shipped sample writes the golden actions, tasks and summary", "[cli][run]") {
  const fs::path dir = nudge::test::temp_dir("nudge_run_test");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto r = run_nudge({"run", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of", "2026-12-03",
                            "--out", (dir / "actions.jsonl").string(), "--csv", (dir / "tasks.csv").string(),
                            "--quarantine", (dir / "quarantine.csv").string(), "--threads", "2", "--ledger",
                            (dir / "ledger.db").string()},
                           NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  std::string summary = without_timing(r.err);
  const std::string dir_text = dir.string();
  for (auto at = summary.find(dir_text); at != std::string::npos; at = summary.find(dir_text)) {
    summary.replace(at, dir_text.size(), "OUT");
  }
  CHECK(compare_golden(tests_dir() / "run" / "sample.summary", summary) == "");
  CHECK(compare_golden(tests_dir() / "run" / "sample.jsonl", nudge::test::read_file(dir / "actions.jsonl")) == "");
  CHECK(compare_golden(tests_dir() / "run" / "sample.quarantine.csv", nudge::test::read_file(dir / "quarantine.csv")) == "");
  const std::string tasks = nudge::test::read_file(dir / "tasks.csv");
  CHECK(tasks.starts_with("account_id,due_date,channel,priority,subject,description,offer_id,play,step,locale\n"));
  CHECK(compare_golden(tests_dir() / "run" / "sample.tasks.csv", tasks) == "");
  // Run again: the night is replayed from the ledger, whose rows are built from the
  // records, not from the evaluation; the tasks must come out the same.
  const auto again = run_nudge({"run", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of",
                                "2026-12-03", "--out", (dir / "again.jsonl").string(), "--csv",
                                (dir / "again.csv").string(), "--quarantine", (dir / "quarantine.csv").string(),
                                "--ledger", (dir / "ledger.db").string()},
                               NUDGE_SOURCE_DIR);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already in the ledger") != std::string::npos);
  CHECK(nudge::test::read_file(dir / "again.csv") == tasks);
  CHECK(nudge::test::read_file(dir / "again.jsonl") == nudge::test::read_file(dir / "actions.jsonl"));
  fs::remove_all(dir);
}

TEST_CASE("cli: explain shows fired, not fired and unevaluable signals with their reasons", "[cli][explain]") {
  for (const std::string account : {"acc-000005", "acc-000017", "acc-000002"}) {
    INFO(account);
    const auto r = run_nudge({"explain", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of",
                              "2026-12-03", "--account", account},
                             NUDGE_SOURCE_DIR);
    CHECK(r.exit_code == 0);
    CHECK(compare_golden(tests_dir() / "run" / ("explain_" + account + ".txt"), r.out) == "");
  }
}

TEST_CASE("cli: run and explain refuse bad input with exit codes and messages", "[cli][run]") {
  const std::string src = NUDGE_SOURCE_DIR;
  auto r = run_nudge({"run", "--rules", "rules-examples", "--data", "no/such/dir", "--as-of", "2026-12-03"}, src);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("data folder no/such/dir does not exist") != std::string::npos);
  r = run_nudge({"run", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of", "2026-02-30"}, src);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--as-of `2026-02-30`") != std::string::npos);
  r = run_nudge({"run", "--rules", "tests/cli/mixed.rule", "--data", "rules-examples/data"}, src);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error[E2001]") != std::string::npos);
  r = run_nudge({"explain", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of", "2026-12-03",
                 "--account", "nobody"},
                src);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("`nobody` has no snapshot on 2026-12-03") != std::string::npos);
}

TEST_CASE("cli: build then run the bundle gives the same actions as running the sources", "[cli][bundle]") {
  const fs::path dir = nudge::test::temp_dir("nudge_bundle_test");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string bundle = (dir / "rules.nudgebundle").string();
  const std::string src = NUDGE_SOURCE_DIR;
  auto r = run_nudge({"build", "rules-examples", "-o", bundle}, src);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> night{"--data", "rules-examples/data", "--as-of", "2026-12-03", "--quarantine",
                                       (dir / "q.csv").string()};
  auto with = [&](const std::string& rules, const std::string& out) {
    std::vector<std::string> args{"run", "--rules", rules, "--out", (dir / out).string()};
    args.insert(args.end(), night.begin(), night.end());
    return run_nudge(args, src);
  };
  REQUIRE(with("rules-examples", "from_sources.jsonl").exit_code == 0);
  REQUIRE(with(bundle, "from_bundle.jsonl").exit_code == 0);
  CHECK(nudge::test::read_file(dir / "from_sources.jsonl") == nudge::test::read_file(dir / "from_bundle.jsonl"));

  // A bundle whose files were edited after it was built is refused.
  std::string text = nudge::test::read_file(bundle);
  const auto at = text.find("priority 80");
  REQUIRE(at != std::string::npos);
  text.replace(at, 11, "priority 99");
  nudge::test::write_file(bundle, text);
  r = with(bundle, "tampered.jsonl");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("do not match its hash") != std::string::npos);
  fs::remove_all(dir);
}

namespace {

// A generated book and a ledger, nights run through the real binary.
struct ledger_book {
  fs::path dir;
  std::vector<std::string> nights{"2026-11-28", "2026-11-29", "2026-11-30"};

  explicit ledger_book(const std::string& name, int accounts = 3000) : dir(nudge::test::temp_dir(name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto r = run_nudge({"gen", "--accounts", std::to_string(accounts), "--days", "60", "--seed", "7", "--out",
                              (dir / "data").string(), "--last-day", "2026-11-30"},
                             NUDGE_SOURCE_DIR);
    REQUIRE(r.exit_code == 0);
  }
  ~ledger_book() { fs::remove_all(dir); }

  nudge::test::run_result night(const std::string& as_of, const std::string& ledger, const std::string& out,
                   const nudge::test::run_extras& x = {}, std::vector<std::string> more = {}) const {
    std::vector<std::string> args{"run", "--rules", "rules-examples", "--data", (dir / "data").string(), "--as-of",
                                  as_of, "--ledger", (dir / ledger).string(), "--out", (dir / out).string(),
                                  "--quarantine", (dir / "q.csv").string()};
    args.insert(args.end(), more.begin(), more.end());
    return run_nudge(args, NUDGE_SOURCE_DIR, x);
  }

  std::string dump(const std::string& ledger) const {
    const auto r = run_nudge({"ledger", "--ledger", (dir / ledger).string()}, NUDGE_SOURCE_DIR);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
};

}  // namespace

TEST_CASE("cli: a night killed at any point and run again equals an uninterrupted one", "[cli][ledger][crash]") {
  ledger_book book("nudge_crash_test", 1500);
  std::vector<std::string> reference;
  for (const std::string& n : book.nights) {
    REQUIRE(book.night(n, "ref.db", "ref-" + n + ".jsonl").exit_code == 0);
    reference.push_back(nudge::test::read_file(book.dir / ("ref-" + n + ".jsonl")));
  }
  const std::string reference_ledger = book.dump("ref.db");
  REQUIRE(reference_ledger.size() > 1000);

  // Deterministic points: before anything is recorded, with everything recorded but not
  // committed, committed but no outbox, and half an outbox written.
  int attempt = 0;
  for (const char* point : {"evaluated", "recorded", "committed", "outbox"}) {
    INFO("killed at " << point);
    const std::string ledger = std::string("kill-") + point + ".db";
    for (std::size_t i = 0; i < book.nights.size(); ++i) {
      const std::string out = "out-" + std::to_string(++attempt) + ".jsonl";
      if (i == 1) {
        const auto killed = book.night(book.nights[i], ledger, out, {.env = {std::string("NUDGE_TEST_KILL_AT=") + point}});
        REQUIRE(killed.exit_code == 128 + SIGKILL);
      }
      REQUIRE(book.night(book.nights[i], ledger, out).exit_code == 0);
      CHECK(nudge::test::read_file(book.dir / out) == reference[i]);
    }
    CHECK(book.dump(ledger) == reference_ledger);
  }
  // And at whatever moment a timer hits, several times during the middle night.
  for (const int ms : {5, 40, 80, 120, 200, 300}) {
    INFO("killed after " << ms << " ms");
    const std::string ledger = "timed-" + std::to_string(ms) + ".db";
    REQUIRE(book.night(book.nights[0], ledger, "t0.jsonl").exit_code == 0);
    book.night(book.nights[1], ledger, "t1.jsonl", {.env = {}, .kill_after_ms = ms});
    REQUIRE(book.night(book.nights[1], ledger, "t1.jsonl").exit_code == 0);
    CHECK(nudge::test::read_file(book.dir / "t1.jsonl") == reference[1]);
    REQUIRE(book.night(book.nights[2], ledger, "t2.jsonl").exit_code == 0);
    CHECK(nudge::test::read_file(book.dir / "t2.jsonl") == reference[2]);
    CHECK(book.dump(ledger) == reference_ledger);
  }
}

TEST_CASE("cli: a second run on a busy ledger is refused with exit 3; re-runs and old nights", "[cli][ledger]") {
  ledger_book book("nudge_busy_test", 300);
  REQUIRE(book.night("2026-11-29", "l.db", "a.jsonl").exit_code == 0);
  {
    nudge::runtime::ledger holder((book.dir / "l.db").string());
    REQUIRE(holder.begin_night());
    const auto r = book.night("2026-11-30", "l.db", "b.jsonl");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("another nudge run is writing to the ledger") != std::string::npos);
    CHECK_FALSE(fs::exists(book.dir / "b.jsonl"));
    holder.rollback();
  }
  const std::string before = book.dump("l.db");
  auto r = book.night("2026-11-29", "l.db", "again.jsonl");
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("already in the ledger") != std::string::npos);
  CHECK(nudge::test::read_file(book.dir / "again.jsonl") == nudge::test::read_file(book.dir / "a.jsonl"));
  CHECK(book.dump("l.db") == before);
  r = book.night("2026-11-28", "l.db", "old.jsonl");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("Pass --force") != std::string::npos);
  // A dry run against a ledger that does not exist does not create it.
  r = book.night("2026-11-29", "fresh.db", "fresh.jsonl", {}, {"--dry-run"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(book.dir / "fresh.db"));
  CHECK(nudge::test::read_file(book.dir / "fresh.jsonl") == nudge::test::read_file(book.dir / "a.jsonl"));
  // A dry run writes the outbox and leaves the ledger as it was.
  r = book.night("2026-11-30", "l.db", "dry.jsonl", {}, {"--dry-run"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("dry run: nothing recorded") != std::string::npos);
  CHECK(book.dump("l.db") == before);
  REQUIRE(book.night("2026-11-30", "l.db", "live.jsonl").exit_code == 0);
  CHECK(nudge::test::read_file(book.dir / "dry.jsonl") == nudge::test::read_file(book.dir / "live.jsonl"));
}

TEST_CASE("cli: approvals list, approve and reject; the next night sends the approved", "[cli][ledger][approval]") {
  ledger_book book("nudge_approvals_test", 600);
  const std::string ledger = (book.dir / "l.db").string();
  REQUIRE(book.night("2026-11-29", "l.db", "a.jsonl").exit_code == 0);
  auto r = run_nudge({"approvals", "list", "--ledger", ledger, "--format", "json"}, NUDGE_SOURCE_DIR);
  REQUIRE(r.exit_code == 0);
  std::vector<std::int64_t> ids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) ids.push_back(nlohmann::json::parse(line)["id"].get<std::int64_t>());
  REQUIRE(ids.size() >= 2);
  r = run_nudge({"approvals", "approve", std::to_string(ids[0]), "--ledger", ledger, "--by", "dana"}, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "#" + std::to_string(ids[0]) + " approved: the next `nudge run` sends it\n");
  r = run_nudge({"approvals", "reject", std::to_string(ids[1]), "--ledger", ledger}, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  r = run_nudge({"approvals", "approve", std::to_string(ids[1]), "--ledger", ledger}, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("was already rejected") != std::string::npos);
  r = run_nudge({"approvals", "list", "--ledger", (book.dir / "none.db").string()}, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no ledger at") != std::string::npos);
  REQUIRE(book.night("2026-11-30", "l.db", "b.jsonl").exit_code == 0);
  std::istringstream out(nudge::test::read_file(book.dir / "b.jsonl"));
  bool released = false;
  for (std::string line; std::getline(out, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["reason"] == "approved") {
      released = true;
      CHECK(j["decision"] == "sent");
      CHECK(j["held_on"] == "2026-11-29");
      CHECK(j["detail"] == "held #" + std::to_string(ids[0]) + " approved by dana");
    }
  }
  CHECK(released);
  r = run_nudge({"approvals", "list", "--all", "--ledger", ledger}, NUDGE_SOURCE_DIR);
  CHECK(r.out.find("approved by dana") != std::string::npos);
  CHECK(r.out.find("rejected") != std::string::npos);
}

TEST_CASE("cli: backtest replays nights with the policy; --baseline reports the difference", "[cli][backtest]") {
  const std::string src = NUDGE_SOURCE_DIR;
  auto r = run_nudge({"backtest", "--rules", "rules-examples", "--data", "rules-examples/data", "--from", "2026-11-27",
                      "--to", "2026-12-03"},
                     src);
  CHECK(r.exit_code == 0);
  CHECK(compare_golden(tests_dir() / "run" / "backtest.txt", r.out) == "");

  // A pull request that offers value_rescue to small accounts too: the backtest shows what
  // it adds (small accounts get the training offer) and removes (what they got before).
  const fs::path dir = nudge::test::temp_dir("nudge_backtest_test");
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(fs::path(src) / "rules-examples")) {
    if (e.path().extension() == ".rule") fs::copy_file(e.path(), dir / e.path().filename());
  }
  std::string plays = nudge::test::read_file(dir / "plays.rule");
  const std::string audience = "audience tier in [mid, enterprise]";
  const auto at = plays.find(audience);
  REQUIRE(at != std::string::npos);
  plays.replace(at, audience.size(), "audience tier in [smb, mid, enterprise]");
  nudge::test::write_file(dir / "plays.rule", plays);
  r = run_nudge({"backtest", "--rules", dir.string(), "--baseline", "rules-examples", "--data", "rules-examples/data",
                 "--from", "2026-11-30", "--to", "2026-12-03", "--format", "json"},
                src);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["difference"]["accounts_gaining_offers"].get<int>() > 0);
  int rescue = 0;
  for (const auto& p : j["difference"]["plays"]) {
    if (p["play"] == "value_rescue") rescue = p["sent_change"].get<int>();
  }
  CHECK(rescue > 0);
  for (const auto& a : j["difference"]["accounts"]) {
    for (const auto& o : a["offers_added"]) CHECK(o == "free_training_module");
  }
  CHECK(j["rules"]["touches_per_account_week"]["max"].get<int>() >= 1);
  r = run_nudge({"backtest", "--rules", dir.string(), "--baseline", "rules-examples", "--data", "rules-examples/data",
                 "--from", "2026-11-30", "--to", "2026-12-03"},
                src);
  CHECK(r.out.find("this change adds offers for ") != std::string::npos);
  r = run_nudge({"backtest", "--rules", "rules-examples", "--data", "rules-examples/data", "--from", "2026-12-03",
                 "--to", "2026-11-30"},
                src);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--to must be on or after --from") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cli: explain --ledger adds what the contact policy decided about the account", "[cli][explain][ledger]") {
  const fs::path dir = nudge::test::temp_dir("nudge_explain_ledger");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string ledger = (dir / "l.db").string();
  const std::vector<std::string> explain{"explain", "--rules", "rules-examples", "--data", "rules-examples/data",
                                         "--as-of", "2026-12-03", "--account", "acc-000050", "--ledger", ledger};
  auto night = [&](const std::string& as_of) {
    return run_nudge({"run", "--rules", "rules-examples", "--data", "rules-examples/data", "--as-of", as_of, "--ledger",
                      ledger, "--out", (dir / (as_of + ".jsonl")).string(), "--quarantine", (dir / "q.csv").string()},
                     NUDGE_SOURCE_DIR)
        .exit_code;
  };
  auto r = run_nudge(explain, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no ledger at") != std::string::npos);
  REQUIRE(night("2026-12-02") == 0);
  r = run_nudge(explain, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("night 2026-12-03 is not in the ledger yet") != std::string::npos);
  REQUIRE(night("2026-12-03") == 0);
  r = run_nudge(explain, NUDGE_SOURCE_DIR);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("renewal_pack/health email offer renewal: held (approval)") != std::string::npos);
  CHECK(r.out.find("suppressed (arbitration): lost to renewal_pack (priority 90)") != std::string::npos);
  CHECK(r.out.find("holdout (salt \"2026-Q4\"): treated") != std::string::npos);
  fs::remove_all(dir);
}
