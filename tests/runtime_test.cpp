// The runtime's behaviour, value by value: dates at month ends and leap days, windows over
// young accounts and missing values, number and money parsing, quarantine, formatting.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/check.hpp"
#include "compiler/lower.hpp"
#include "runtime/cells.hpp"
#include "runtime/explain.hpp"
#include "runtime/format.hpp"
#include "runtime/json_text.hpp"
#include "runtime/load.hpp"
#include "runtime/night.hpp"
#include "runtime/text_arena.hpp"
#include "support/currency.hpp"
#include "test_util.hpp"

using namespace nudge;
namespace fs = std::filesystem;

namespace {

runtime::day_number day(const char* iso) { return *runtime::parse_date(iso); }

// A rule set in text, data files in a temporary folder, one night.
struct night_fixture {
  diagnostic_sink sink;
  compiler::rule_set rules;
  compiler::program checked;
  ir::module lowered;
  runtime::load_result loaded;
  std::string jsonl;
  fs::path dir;

  night_fixture(const std::string& text, const std::vector<std::pair<std::string, std::string>>& files, const char* as_of) {
    rules = compiler::from_text("t.rule", text, sink);
    checked = compiler::check(rules, sink);
    for (const diagnostic& d : sink.all()) {
      if (d.sev == severity::error) FAIL("rules do not check: " << d.message);
    }
    lowered = compiler::lower(rules, checked);
    dir = nudge::test::temp_dir("nudge_rt_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir);
    for (const auto& [name, content] : files) test::write_file(dir / name, content);
    loaded = runtime::load_data(dir, checked, lowered, day(as_of));
    if (loaded.fatal) return;
    std::ostringstream out;
    runtime::night_options o;
    runtime::run_night(rules, checked, lowered, loaded.data, o, &out, nullptr);
    jsonl = out.str();
  }
  ~night_fixture() { fs::remove_all(dir); }

  // The facts of the first action for `account`, as JSON.
  nlohmann::json facts(const std::string& account) const {
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (j["account"] == account) return j["facts"];
    }
    return nullptr;
  }
};

const std::string schema = R"(
schema {
  history 60d
  mrr: money(KZT)
  dau: int
  renewal_date: date?
  events tickets at opened { opened: date  topic: text }
}
policy { locales en  cap 1 per account per 7d }
)";

std::string play_on(const std::string& signal, const std::string& fact) {
  return "play p_" + signal + " on " + signal + " { channel email why_now \"{" + fact + "}\" offer \"o\" next_step \"n\" }\n";
}

}  // namespace

TEST_CASE("time: month ends and leap days are real calendar dates", "[runtime][time]") {
  CHECK(runtime::parse_date("2024-02-29").has_value());
  CHECK_FALSE(runtime::parse_date("2026-02-29").has_value());
  CHECK_FALSE(runtime::parse_date("2026-04-31").has_value());
  CHECK_FALSE(runtime::parse_date("2026-13-01").has_value());
  CHECK_FALSE(runtime::parse_date("03.12.2026").has_value());
  CHECK(runtime::parse_date("2026-12-03T10:15:00Z") == runtime::parse_date("2026-12-03"));
  CHECK(day("2024-03-01") - day("2024-02-28") == 2);
  CHECK(day("2026-03-01") - day("2026-02-28") == 1);
  CHECK(runtime::iso_date(day("2024-03-31") - 30) == "2024-03-01");
  CHECK(runtime::iso_date(day("2026-01-31") + 30) == "2026-03-02");
  // Every day from 1900 to 2100 prints as it parses.
  for (runtime::day_number d = day("1900-01-01"); d <= day("2100-12-31"); ++d) {
    const std::string text = runtime::iso_date(d);
    if (runtime::parse_date(text) != d) FAIL("day " << d << " prints as " << text);
  }
  CHECK(runtime::iso_date(day("1999-12-31")) == "1999-12-31");
  CHECK(runtime::iso_date(day("2000-02-29")) == "2000-02-29");
}

TEST_CASE("cells: numbers with either decimal separator and thousands spaces", "[runtime][cells]") {
  const auto [raw, canonical] = GENERATE(table<std::string, std::string>({
      {"240 000", "240000"},
      {"240\xC2\xA0" "000,50", "240000.50"},
      {"1,234.56", "1234.56"},
      {"1.234,56", "1234.56"},
      {"12,5", "12.5"},
      {"-3", "-3"},
      {"1,234,567", "1234567"},
      {"abc", ""},
      {"1,2,3.4.5", ""},
      {"", ""},
  }));
  INFO(raw);
  CHECK(runtime::canonical_decimal(raw) == canonical);
}

TEST_CASE("cells: account ids normalise case, blanks, quotes and legal forms", "[runtime][cells]") {
  CHECK(runtime::account_key("ТОО «Ромашка»") == "ромашка");
  CHECK(runtime::account_key("  Ромашка ТОО ") == "ромашка");
  CHECK(runtime::account_key("Acme, Inc.") == "acme");
  CHECK(runtime::account_key("ACME   LLC") == "acme");
  CHECK(runtime::account_key("ACC-0001 ") == "acc-0001");
  CHECK(runtime::account_key("LLC") == "llc");
}

TEST_CASE("format: money, percent, dates and numbers in ru and en", "[runtime][format]") {
  const std::size_t kzt = *currency_index("KZT");
  const std::string nbsp = "\xC2\xA0";
  CHECK(runtime::format_money(24'000'000, kzt, "ru") == "240" + nbsp + "000" + nbsp + "₸");
  CHECK(runtime::format_money(24'000'000, kzt, "en") == "₸240,000");
  CHECK(runtime::format_money(24'000'050, kzt, "en") == "₸240,000.50");
  CHECK(runtime::format_money(-150'000, kzt, "ru") == "-1" + nbsp + "500" + nbsp + "₸");
  CHECK(runtime::format_percent(0.183, true, "ru") == "+18,3" + nbsp + "%");
  CHECK(runtime::format_percent(0.183, true, "en") == "+18.3%");
  CHECK(runtime::format_percent(-0.1, true, "en") == "-10%");
  CHECK(runtime::format_percent(0.85, false, "en") == "85%");
  CHECK(runtime::format_date(day("2026-12-03"), "ru") == "3 декабря 2026");
  CHECK(runtime::format_date(day("2026-12-03"), "en") == "Dec 3, 2026");
  CHECK(runtime::format_integer(1234567, "en") == "1,234,567");
  CHECK(runtime::format_number(3.5, "ru") == "3,5");
}

TEST_CASE("window: ago() reads the snapshot exactly N days back, across a month end", "[runtime][window]") {
  const night_fixture f(schema + "signal s { let before = ago(mrr, 30d) let growth = pct_change(mrr, 30d) when true }\n" +
                            play_on("s", "before"),
                        {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\n"
                                          "a,2024-03-31,1200,1,\n"
                                          "a,2024-03-01,1000,1,\n"
                                          "a,2024-02-29,900,1,\n"},
                         {"tickets.csv", "account_id,opened,topic\n"}},
                        "2024-03-31");
  const auto facts = f.facts("a");
  REQUIRE(facts.is_object());
  CHECK(facts["before"]["value"] == 100000);  // 1000 KZT in tiyn
  CHECK(facts["growth"]["value"].get<double>() == Approx(0.2));
}

TEST_CASE("window: a young account's long window is unknown, and its signal does not fire", "[runtime][window]") {
  const night_fixture f(schema + "signal s { let growth = pct_change(mrr, 30d) when growth > 0% or true }\n" +
                            "signal t { let growth = pct_change(mrr, 30d) when growth > 0% }\n" + play_on("s", "growth") +
                            play_on("t", "growth"),
                        {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\nyoung,2026-12-03,500,1,\n"},
                         {"tickets.csv", "account_id,opened,topic\n"}},
                        "2026-12-03");
  CHECK(f.facts("young")["growth"]["state"] == "unknown");
  CHECK(f.jsonl.find("p_t") == std::string::npos);  // unknown `when` does not fire
  CHECK(f.jsonl.find("p_s") != std::string::npos);  // `unknown or true` is true
}

TEST_CASE("window: avg skips missing days; counts include both ends of the window", "[runtime][window]") {
  const night_fixture f(
      schema + "signal s { let avg3 = avg(dau, 3d) let n = count(tickets, 7d) let billing = count(tickets where topic == \"billing\", 7d) when true }\n" +
          play_on("s", "n"),
      {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\n"
                        "a,2024-03-01,1,30,\n"
                        "a,2024-02-28,1,10,\n"},  // 2024-02-29 is missing: a leap day gap
       {"tickets.csv", "account_id,opened,topic\n"
                       "a,2024-03-01,billing\n"
                       "a,2024-02-24,billing\n"  // 6 days back: inside a 7-day window
                       "a,2024-02-23,access\n"   // 7 days back: outside
                       "a,2024-03-02,billing\n"}},  // after the night: not counted
      "2024-03-01");
  const auto facts = f.facts("a");
  CHECK(facts["avg3"]["value"].get<double>() == Approx(20.0));
  CHECK(facts["n"]["value"] == 2);
  CHECK(facts["billing"]["value"] == 2);
}

TEST_CASE("missing values: an empty optional cell is absent; present() tells", "[runtime][window]") {
  const night_fixture f(schema + "signal s { let days_left = days_until(renewal_date) let has = present(renewal_date) when true }\n" +
                            play_on("s", "has"),
                        {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\n"
                                          "with,2026-12-03,1,1,2027-01-02\n"
                                          "without,2026-12-03,1,1,\n"},
                         {"tickets.csv", "account_id,opened,topic\n"}},
                        "2026-12-03");
  CHECK(f.facts("with")["days_left"]["value"] == 30);
  CHECK(f.facts("with")["has"]["value"] == true);
  CHECK(f.facts("without")["days_left"]["state"] == "absent");
  CHECK(f.facts("without")["has"]["value"] == false);
}

TEST_CASE("quarantine: each kind of bad row is reported with file, line, column and reason", "[runtime][quarantine]") {
  const night_fixture f(schema + "signal s { let m = mrr let d = dau let n = count(tickets, 7d) when true }\n" + play_on("s", "m"),
                        {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\n"
                                          "a,2026-12-03,\"1 000,50\",5,\n"    // 2: fine
                                          ",2026-12-03,1,1,\n"                // 3: no id
                                          "b,03.12.2026,1,1,\n"               // 4: bad date
                                          "c,2026-12-03,12 abc,1,\n"          // 5: bad money
                                          "d,2026-12-03,1,2.5,\n"             // 6: not a whole number
                                          "e,2026-12-03,1,,\n"                // 7: required value empty
                                          "A ,2026-12-03,2,2,\n"              // 8: duplicate of a
                                          "f,2026-12-03,1\n"                  // 9: too few cells
                                          "g,2026-12-03,\"1,1,\n"},           // 10: unclosed quote
                         {"tickets.csv", "account_id,opened,topic\na,someday,x\n"}},
                        "2026-12-03");
  REQUIRE_FALSE(f.loaded.fatal);
  std::vector<std::string> got;
  for (const auto& q : f.loaded.quarantine) {
    got.push_back(fs::path(q.file).filename().string() + ":" + std::to_string(q.line) + ":" + std::to_string(q.column) +
                  " " + q.reason);
  }
  const std::vector<std::string> expected{
      "accounts.csv:3:1 the account id is empty",
      "accounts.csv:4:2 `03.12.2026` is not a date in the form YYYY-MM-DD",
      "accounts.csv:5:3 `mrr`: `12 abc` is not an amount in KZT",
      "accounts.csv:6:4 `dau`: `2.5` is not a whole number",
      "accounts.csv:7:4 `dau` is empty, and the field is required",
      "accounts.csv:8:1 a second row for account `a` on 2026-12-03; the first one is used",
      "accounts.csv:9:0 the row has 3 cells, the header 5",
      "accounts.csv:10:0 a quoted cell is not closed",
      "tickets.csv:2:2 `someday` is not a date in the form YYYY-MM-DD",
  };
  CHECK(got == expected);
  CHECK(f.loaded.stats.quarantined == expected.size());
  CHECK(f.facts("a")["m"]["value"] == 100050);
}

TEST_CASE("load: a missing file or column stops the run before anything is produced", "[runtime][quarantine]") {
  const std::string rules = schema + "signal s { let m = mrr when count(tickets, 7d) > 0 }\n" + play_on("s", "m");
  {
    const night_fixture f(rules, {{"tickets.csv", "account_id,opened,topic\n"}}, "2026-12-03");
    REQUIRE(f.loaded.fatal);
    CHECK(f.loaded.fatal->find("accounts.csv") != std::string::npos);
  }
  {
    const night_fixture f(rules, {{"accounts.csv", "account_id,date,dau\n"}, {"tickets.csv", "account_id,opened,topic\n"}},
                          "2026-12-03");
    REQUIRE(f.loaded.fatal);
    CHECK(f.loaded.fatal->find("missing column `mrr`") != std::string::npos);
  }
  {
    const night_fixture f(rules, {{"accounts.csv", "account_id,date,mrr\na,2026-12-03,1\n"}}, "2026-12-03");
    REQUIRE(f.loaded.fatal);
    CHECK(f.loaded.fatal->find("tickets.csv") != std::string::npos);
  }
}

TEST_CASE("load: JSON Lines is read like CSV", "[runtime]") {
  const night_fixture f(schema + "signal s { let m = mrr let n = count(tickets, 7d) when true }\n" + play_on("s", "m"),
                        {{"accounts.jsonl", "{\"account_id\": \"a\", \"date\": \"2026-12-03\", \"mrr\": 1500.5}\n"
                                            "not json\n"},
                         {"tickets.jsonl", "{\"account_id\": \"a\", \"opened\": \"2026-12-01\", \"topic\": \"x\"}\n"}},
                        "2026-12-03");
  REQUIRE_FALSE(f.loaded.fatal);
  CHECK(f.facts("a")["m"]["value"] == 150050);
  CHECK(f.facts("a")["n"]["value"] == 1);
  REQUIRE(f.loaded.quarantine.size() == 1);
  CHECK(f.loaded.quarantine[0].reason == "the line is not a JSON object");
}

TEST_CASE("night: output does not depend on the order of the input rows or the thread count", "[runtime]") {
  const std::string rules = schema + "signal s { let m = mrr when true }\n" + play_on("s", "m");
  std::string forward = "account_id,date,mrr\n";
  std::string backward = "account_id,date,mrr\n";
  for (int i = 0; i < 3000; ++i) forward += "acc-" + std::to_string(i) + ",2026-12-03," + std::to_string(i) + "\n";
  for (int i = 2999; i >= 0; --i) backward += "acc-" + std::to_string(i) + ",2026-12-03," + std::to_string(i) + "\n";
  const night_fixture a(rules, {{"accounts.csv", forward}, {"tickets.csv", "account_id,opened,topic\n"}}, "2026-12-03");
  const night_fixture b(rules, {{"accounts.csv", backward}, {"tickets.csv", "account_id,opened,topic\n"}}, "2026-12-03");
  CHECK(a.jsonl == b.jsonl);
  runtime::dataset copy = a.loaded.data;
  std::ostringstream threaded;
  runtime::night_options o;
  o.threads = 2;
  o.batch = 64;
  runtime::run_night(a.rules, a.checked, a.lowered, copy, o, &threaded, nullptr);
  CHECK(threaded.str() == a.jsonl);
}

TEST_CASE("load: parsing on several threads in small blocks gives exactly the one-thread result", "[runtime][quarantine]") {
  // Quoted cells with separators and line breaks sit across block and part boundaries.
  std::string accounts = "account_id,date,mrr,dau,renewal_date\n";
  for (int i = 0; i < 400; ++i) {
    const std::string id = i % 7 == 0 ? "\"acc, " + std::to_string(i % 50) + "\"" : "acc-" + std::to_string(i % 50);
    const std::string day = "2026-12-0" + std::to_string(1 + i % 3);
    const std::string mrr = i % 11 == 0 ? "\"1 000,\n50\"" : i % 13 == 0 ? "bad" : std::to_string(100 + i);
    accounts += id + "," + day + "," + mrr + "," + std::to_string(i % 9) + ",\n";
  }
  const std::string rules =
      schema + "signal s { let m = mrr let before = ago(mrr, 2d) let n = count(tickets, 7d) when true }\n" + play_on("s", "m");
  diagnostic_sink sink;
  const compiler::rule_set rs = compiler::from_text("t.rule", rules, sink);
  const compiler::program checked = compiler::check(rs, sink);
  REQUIRE(sink.error_count() == 0);
  const ir::module lowered = compiler::lower(rs, checked);
  const fs::path dir = nudge::test::temp_dir("nudge_parallel_load");
  fs::remove_all(dir);
  test::write_file(dir / "accounts.csv", accounts);
  test::write_file(dir / "tickets.csv", "account_id,opened,topic\nacc-1,2026-12-02,x\n");
  const auto one = runtime::load_data(dir, checked, lowered, day("2026-12-03"), {1, 1u << 20});
  for (const auto& [threads, block] : std::vector<std::pair<unsigned, std::size_t>>{{2, 64}, {3, 500}, {2, 1}}) {
    INFO(threads << " threads, blocks of " << block << " bytes");
    const auto many = runtime::load_data(dir, checked, lowered, day("2026-12-03"), {threads, block});
    REQUIRE_FALSE(many.fatal);
    CHECK(many.data.account_ids == one.data.account_ids);
    REQUIRE(many.quarantine.size() == one.quarantine.size());
    for (std::size_t q = 0; q < one.quarantine.size(); ++q) {
      CHECK(many.quarantine[q].line == one.quarantine[q].line);
      CHECK(many.quarantine[q].reason == one.quarantine[q].reason);
    }
    CHECK(many.stats.rows == one.stats.rows);
    CHECK(many.stats.outside_window == one.stats.outside_window);
    for (std::size_t f = 0; f < one.data.fields.size(); ++f) {
      for (std::size_t c = 0; c < one.data.fields[f].columns.size(); ++c) {
        CHECK(many.data.fields[f].columns[c].i == one.data.fields[f].columns[c].i);
        CHECK(many.data.fields[f].columns[c].state == one.data.fields[f].columns[c].state);
      }
    }
  }
  CHECK(one.quarantine.size() > 10);
  fs::remove_all(dir);
}

TEST_CASE("load: a quote left open early in a file, read on three threads, is quarantined, not a crash",
          "[runtime][quarantine]") {
  // The open quote makes the first part's row run to the end of the file, past where the
  // third part was to start (this read past the mapped file: SIGBUS).
  std::string accounts = "account_id,date,mrr,dau,renewal_date\nacc-1,2026-12-03,\"100,1,\n";
  for (int i = 2; i < 60; ++i) accounts += "acc-" + std::to_string(i) + ",2026-12-03,100,1,\n";
  const night_fixture f(schema + "signal s { let m = mrr let n = count(tickets, 7d) when true }\n" + play_on("s", "m"),
                        {{"accounts.csv", accounts},
                         {"tickets.csv", "account_id,opened,topic\nacc-1,2026-12-02,\"x\nacc-2,2026-12-02,y\n"}},
                        "2026-12-03");
  for (const unsigned threads : {1u, 2u, 3u, 4u}) {
    INFO(threads << " threads");
    const auto r = runtime::load_data(f.dir, f.checked, f.lowered, day("2026-12-03"), {threads, 1u << 20});
    REQUIRE_FALSE(r.fatal);
    REQUIRE(r.quarantine.size() == 2);
    CHECK(r.quarantine[0].line == 2);
    CHECK(r.quarantine[0].reason == "a quoted cell is not closed");
    CHECK(r.quarantine[1].reason == "a quoted cell is not closed");
    CHECK(r.data.accounts() == 0);
  }
}

TEST_CASE("logic: and/or are three-valued: false and unknown is false, true or unknown is true", "[runtime]") {
  const night_fixture f(schema +
                            "signal s { let u = pct_change(mrr, 30d) > 0% let f = u and false let t = u or true "
                            "let ua = u and true let uo = u or false let n = not u when true }\n" +
                            play_on("s", "t"),
                        {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\nyoung,2026-12-03,500,1,\n"},
                         {"tickets.csv", "account_id,opened,topic\n"}},
                        "2026-12-03");
  const auto facts = f.facts("young");
  CHECK(facts["u"]["state"] == "unknown");
  CHECK(facts["f"]["value"] == false);
  CHECK(facts["t"]["value"] == true);
  CHECK(facts["ua"]["state"] == "unknown");
  CHECK(facts["uo"]["state"] == "unknown");
  CHECK(facts["n"]["state"] == "unknown");
}

TEST_CASE("load: rows of days no rule reads are split only to their id and date, and still checked", "[runtime][load]") {
  // 30d reads today and 30 days back; the rows of the days between are only probed, yet a
  // duplicate there and a row with too few cells are still reported.
  const std::string rules = schema + R"(
signal s { let g = pct_change(mrr, 30d)  when g >= 10% }
)" + play_on("s", "g");
  std::string csv = "account_id,date,mrr,dau,renewal_date\n";
  csv += "a,2026-11-03,1000,1,\n";
  csv += "a,2026-11-20,\"1,000\",1,\n";  // quoted: always split whole
  csv += "a,2026-11-21,1000,1,\n";
  csv += "a,2026-11-21,1000,1,\n";       // a duplicate on a day no rule reads
  csv += "a,2026-11-22,1000\n";          // too few cells
  csv += "a,2026-12-03,1200,1,\n";
  night_fixture f(rules, {{"accounts.csv", csv}}, "2026-12-03");
  REQUIRE_FALSE(f.loaded.fatal);
  REQUIRE(f.loaded.quarantine.size() == 2);
  CHECK(f.loaded.quarantine[0].line == 5);
  CHECK(f.loaded.quarantine[0].reason.find("a second row for account `a` on 2026-11-21") != std::string::npos);
  CHECK(f.loaded.quarantine[1].line == 6);
  CHECK(f.loaded.quarantine[1].reason == "the row has 3 cells, the header 5");
  CHECK(f.facts("a")["g"]["value"].get<double>() == Approx(0.2));
}

TEST_CASE("windows: most_frequent counts each value once per event; ties go to the smallest", "[runtime][windows]") {
  const std::string rules = schema + R"(
signal s {
  let t = most_frequent(tickets.topic, 30d)
  let n = count(tickets, 30d)
  when n >= 1
}
)" + play_on("s", "t");
  night_fixture f(rules,
                  {{"accounts.csv", "account_id,date,mrr,dau,renewal_date\n"
                                    "tie,2026-12-03,1,1,\nclear,2026-12-03,1,1,\nold,2026-12-03,1,1,\n"},
                   {"tickets.csv", "account_id,opened,topic\n"
                                   "tie,2026-12-01,billing\ntie,2026-12-02,billing\ntie,2026-12-01,access\n"
                                   "tie,2026-11-30,access\ntie,2026-12-03,api\n"
                                   "clear,2026-12-01,api\nclear,2026-12-02,billing\nclear,2026-12-03,api\n"
                                   "clear,2026-10-01,billing\nclear,2026-10-02,billing\nclear,2026-10-03,billing\n"
                                   "old,2026-10-01,api\n"}},
                  "2026-12-03");
  REQUIRE_FALSE(f.loaded.fatal);
  CHECK(f.facts("tie")["t"]["value"] == "access");   // 2 access, 2 billing, 1 api
  CHECK(f.facts("clear")["t"]["value"] == "api");    // billing's three are outside the window
  CHECK(f.facts("old").is_null());                   // no ticket in 30 days: does not fire
}

TEST_CASE("json text: strings and numbers are written as nlohmann writes them", "[runtime][json]") {
  const std::vector<std::string> texts{"plain", "Выручка «выросла» на +18,3 %", "quote \" and \\ backslash",
                                       "tab\tnew\nline\r\b\f\x01\x1f", "", "\xff broken \xc3", "emoji \xf0\x9f\x98\x80",
                                       // invalid after valid Cyrillic; truncated at the end; overlong; a surrogate
                                       "Рост \"x\" \xd0", "ок\xe2\x82", "\xc0\xaf slash", "\xed\xa0\x80 half",
                                       "₸240 000 — ok", "\x7f del"};
  for (const std::string& t : texts) {
    std::string out = "{\"k\":";  // appended after what is there, even when rewritten
    runtime::append_json_string(out, t);
    CAPTURE(t);
    CHECK(out == "{\"k\":" + nlohmann::json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    CHECK(nlohmann::json::parse(out.substr(5)).is_string());
  }
  for (const double v : {0.0, 1.0, -2.5, 0.1, 0.3396226415094337, 1e16, 1e-7, 123456789.125}) {
    std::string out;
    runtime::append_json_double(out, v);
    CHECK(out == nlohmann::json(v).dump());
  }
}

TEST_CASE("text arena: views stay valid as blocks fill and the arena moves", "[runtime]") {
  runtime::text_arena arena;
  std::vector<std::string> texts;
  std::vector<std::string_view> views;
  for (int i = 0; i < 3000; ++i) texts.push_back(std::string(static_cast<std::size_t>(1 + i % 997), static_cast<char>('a' + i % 26)));
  texts.push_back(std::string(runtime::text_arena::block_bytes + 10, 'z'));  // larger than a block
  texts.push_back("");
  texts.push_back("after the big one");
  for (const std::string& t : texts) views.push_back(arena.add(t));
  const runtime::text_arena moved = std::move(arena);
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(views[i] == texts[i]);
}

TEST_CASE("night: records written directly (as for rules without a policy) come with task rows equal to those built from the records", "[runtime]") {
  const night_fixture f(schema + "signal s { let m = mrr when mrr > 100 KZT }\n" + play_on("s", "m"),
                        {{"accounts.csv", "account_id,date,mrr\n\"Acme \"\"Q\"\"\",2026-12-03,150\nb,2026-12-03,90\nc,2026-12-03,300\n"},
                         {"tickets.csv", "account_id,opened,topic\n"}},
                        "2026-12-03");
  REQUIRE_FALSE(f.loaded.fatal);
  runtime::dataset copy = f.loaded.data;
  std::ostringstream jsonl;
  std::ostringstream csv;
  runtime::run_night(f.rules, f.checked, f.lowered, copy, runtime::night_options{}, &jsonl, &csv);
  CHECK(jsonl.str() == f.jsonl);  // rendering rows changes no record
  std::string from_records;
  std::istringstream lines(jsonl.str());
  for (std::string line; std::getline(lines, line);) from_records += runtime::task_csv_row(std::string_view(line));
  CHECK(std::count(f.jsonl.begin(), f.jsonl.end(), '\n') == 2);
  CHECK(csv.str() == from_records);
  CHECK(csv.str().starts_with("\"Acme \"\"Q\"\"\",\"2026-12-03\",\"email\",50,"));
}
