// No input may crash or hang the checker: garbage, binary data, empty files, huge lines,
// deep nesting and invalid UTF-8 all end in diagnostics. A short mutation fuzz runs in the
// default suite; NUDGE_FUZZ_ITERATIONS raises it for long runs (docs/operations.md).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>

#include <sstream>

#include "compiler/check.hpp"
#include "compiler/lower.hpp"
#include "runtime/load.hpp"
#include "runtime/night.hpp"
#include "test_util.hpp"

using namespace nudge;

namespace {

// Checks `text` as a one-file rule set and returns the diagnostics.
diagnostic_sink check_text(std::string text) {
  diagnostic_sink sink;
  const compiler::rule_set rules = compiler::from_text("fuzz.rule", std::move(text), sink);
  compiler::check(rules, sink);
  return sink;
}

bool has_code(const diagnostic_sink& sink, diag kind) {
  for (const diagnostic& d : sink.all()) {
    if (d.kind == kind) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("robustness: hostile inputs end in located diagnostics", "[robustness]") {
  CHECK(has_code(check_text(""), diag::E2008));
  CHECK(has_code(check_text(std::string("schema {\0}", 10)), diag::E1003));
  CHECK(has_code(check_text("schema { name: text }\n\xff\xfe"), diag::E1002));
  CHECK(has_code(check_text("%%%% garbage ;;;; }}}}"), diag::E1001));
  CHECK(has_code(check_text("signal s { when " + std::string(100000, '(') + "true }"), diag::E1004));
  CHECK(has_code(check_text("signal s { when not " + std::string(50000 * 4, ' ') + "}"), diag::E1001));
  std::string chain = "signal s { let x = 1";
  for (int i = 0; i < 100000; ++i) chain += " + 1";
  CHECK(has_code(check_text(chain + " when x > 0 }"), diag::E1004));
  std::string nots = "signal s { when ";
  for (int i = 0; i < 10000; ++i) nots += "not ";
  CHECK(has_code(check_text(nots + "true }"), diag::E1004));
  CHECK(has_code(check_text("signal s { when \"" + std::string(1 << 20, 'x') + "\n}"), diag::E1005));
  CHECK(has_code(check_text("signal s { let x = 99999999999999999999999 when true }"), diag::E1007));
}

TEST_CASE("robustness: mutated example rule files never crash the checker", "[robustness][fuzz]") {
  std::vector<std::string> seeds;
  for (const char* f : {"schema.rule", "signals.rule", "plays.rule", "policy.rule"}) {
    seeds.push_back(test::read_file(std::filesystem::path(NUDGE_SOURCE_DIR) / "rules-examples" / f));
  }
  std::string all;
  for (const std::string& s : seeds) all += s.substr(s.find('\n') + 1);  // without `use` lines
  const char* env = std::getenv("NUDGE_FUZZ_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 300;
  std::mt19937 rng(20261203);
  const std::string alphabet = "(){}[]<>=!?+-*/%,.:\"\\#\n _09azAZ\xd0\xff";
  for (int i = 0; i < iterations; ++i) {
    std::string text = all;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text.erase(pos, 1 + rng() % 20);
          break;
        case 1:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        default: {
          // Splice a chunk from elsewhere: keeps tokens realistic.
          const std::size_t from = rng() % text.size();
          text.insert(pos, text.substr(from, 1 + rng() % 60));
        }
      }
    }
    const diagnostic_sink sink = check_text(text);
    for (const diagnostic& d : sink.all()) {
      REQUIRE(d.where.begin <= d.where.end);
      REQUIRE(d.where.end <= text.size());
    }
  }
  SUCCEED("checked " << iterations << " mutations");
}

TEST_CASE("robustness: mutated data files never crash loading or a night", "[robustness][fuzz]") {
  namespace fs = std::filesystem;
  const fs::path examples = fs::path(NUDGE_SOURCE_DIR) / "rules-examples";
  diagnostic_sink sink;
  const std::vector<std::string> paths{examples.string()};
  const compiler::check_result rules = compiler::check(paths);
  REQUIRE(rules.diagnostics.error_count() == 0);
  const ir::module lowered = compiler::lower(rules.loaded.rules, rules.checked);
  // The first 400 lines of each sample file keep the run short.
  std::vector<std::pair<std::string, std::string>> seeds;
  for (const char* f : {"accounts.csv", "tickets.csv", "transactions.csv"}) {
    std::string text = test::read_file(examples / "data" / f);
    std::size_t cut = 0;
    for (int line = 0; line < 400 && cut != std::string::npos; ++line) cut = text.find('\n', cut + 1);
    if (cut != std::string::npos) text.resize(cut + 1);
    seeds.emplace_back(f, text);
  }
  const char* env = std::getenv("NUDGE_FUZZ_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) / 10 : 40;
  std::mt19937 rng(7);
  const std::string alphabet = ",;\"\n\r 0123456789.-:%abcXYZ\xd0\xb0\xe2\x82\xb8";
  const fs::path dir = nudge::test::temp_dir("nudge_data_fuzz");
  for (int i = 0; i < iterations; ++i) {
    fs::remove_all(dir);
    for (auto [name, text] : seeds) {
      const int edits = 1 + static_cast<int>(rng() % 30);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const std::size_t pos = rng() % text.size();
        switch (rng() % 3) {
          case 0: text.erase(pos, 1 + rng() % 40); break;
          case 1: text.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          default: text[pos] = alphabet[rng() % alphabet.size()];
        }
      }
      test::write_file(dir / name, text);
    }
    runtime::load_result loaded = runtime::load_data(dir, rules.checked, lowered, *runtime::parse_date("2026-12-03"));
    if (loaded.fatal) continue;  // e.g. a header mutated away: a clean stop is the right answer
    std::ostringstream out;
    std::ostringstream csv;
    const runtime::night_summary s =
        runtime::run_night(rules.loaded.rules, rules.checked, lowered, loaded.data, runtime::night_options{}, &out, &csv);
    REQUIRE(s.accounts == loaded.data.accounts());
  }
  fs::remove_all(dir);
}
