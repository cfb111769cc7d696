// The type rules, one expression at a time: what type a `let` gets, or which error it draws.
#include <catch2/catch.hpp>

#include "compiler/check.hpp"
#include "compiler/checker.hpp"

using namespace nudge;

namespace {

constexpr const char* schema = R"(schema {
  history 120d
  tier: enum(smb, mid, enterprise)
  mrr: money(KZT)
  arr_usd: money(USD)
  dau: int
  mau: int
  renewal_date: date?
  signup: date
  name: text
  events tickets at opened { opened: date  topic: text  hours: number }
}
)";

// The type of `let x = <expr>` as text, or the code of the first error.
std::string outcome(const std::string& expr) {
  diagnostic_sink sink;
  const std::string text = std::string(schema) + "signal s { let x = " + expr + "\n when true }\n";
  const compiler::rule_set rules = compiler::from_text("t.rule", text, sink);
  const compiler::program p = compiler::check(rules, sink);
  for (const diagnostic& d : sink.all()) {
    if (d.sev == severity::error) return std::string(info(d.kind).code);
  }
  const auto& lets = rules.modules[0].signals[0].lets;
  const compiler::type t = p.tables[0].types[ast::index(lets[0].value)];
  return to_string(t, p.schema.names()) + (t.partial ? " partial" : "");
}

}  // namespace

TEST_CASE("types: expressions get the documented types", "[typecheck]") {
  const auto [expr, expected] = GENERATE(table<std::string, std::string>({
      {"mrr + 5000 KZT", "money(KZT)"},
      {"mrr * 10%", "money(KZT)"},
      {"mrr / mrr", "number"},
      {"dau / mau", "number"},
      {"share(dau, mau)", "percent"},
      {"pct_change(mrr, 60d)", "percent partial"},
      {"change(dau, 30d)", "int partial"},
      {"ago(mrr, 30d)", "money(KZT) partial"},
      {"avg(dau, 7d)", "number partial"},
      {"sum(tickets.hours, 30d)", "number"},
      {"count(tickets where topic == \"billing\", 30d)", "int"},
      {"most_frequent(tickets.topic, 30d)", "text partial"},
      {"days_until(signup)", "int"},
      {"days_until(renewal_date)", "int?"},
      {"renewal_date ?? signup", "date"},
      {"signup + 30d", "date"},
      {"signup - signup", "int"},
      {"tier == enterprise", "bool"},
      {"tier in [smb, mid]", "bool"},
      {"dau between 1 and 10", "bool"},
      {"pct_change(avg(dau, 7d), 30d) ?? 0%", "percent"},
  }));
  INFO(expr);
  CHECK(outcome(expr) == expected);
}

TEST_CASE("types: mistakes draw the documented error codes", "[typecheck]") {
  const auto [expr, code] = GENERATE(table<std::string, std::string>({
      {"mrr + arr_usd", "E3002"},
      {"mrr > arr_usd", "E3002"},
      {"mrr + 5", "E3001"},
      {"signup + 5", "E3001"},
      {"name > 3", "E3001"},
      {"mrr > 15%", "E3001"},
      {"tier == enterprize", "E3003"},
      {"avg(dau, 7)", "E3004"},
      {"pct_change(mrr, -3d)", "E4008"},
      {"count(tickets)", "E3005"},
      {"count(dau, 30d)", "E3005"},
      {"renewal_date > signup", "E3007"},
      {"avg(mrr, 200d)", "E3008"},
      {"tickets + 1", "E3009"},
      {"mmr", "E2001"},
      {"tickets.topc", "E2006"},
      {"pct(mrr, 30d)", "E2007"},
  }));
  INFO(expr);
  CHECK(outcome(expr) == code);
}

TEST_CASE("optional: present() proves a value present on the right of `and`", "[typecheck]") {
  CHECK(outcome("present(renewal_date) and days_until(renewal_date) == 30") == "bool");
  CHECK(outcome("not present(renewal_date) or days_until(renewal_date) > 30") == "bool");
  CHECK(outcome("days_until(renewal_date) == 30 and present(renewal_date)") == "E3007");
}

TEST_CASE("lints: plays at one priority get one W5006 each, not one per pair", "[typecheck][lints]") {
  // 60 plays on 60 signals, all at priority 50, all able to meet.
  std::string text = std::string(schema) + "policy { locales ru cap 1 per account per 7d }\n";
  const int n = 60;
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(100 + i);
    text += "signal s" + k + " { let g = pct_change(mrr, 30d) when g > 10% }\n";
    text += "play p" + k + " on s" + k + " { channel email priority 50 why_now ru \"{g}\" offer ru \"o\" next_step ru \"n\" }\n";
  }
  diagnostic_sink sink;
  const compiler::rule_set rules = compiler::from_text("t.rule", text, sink);
  compiler::check(rules, sink);
  std::size_t ties = 0;
  for (const diagnostic& d : sink.all()) {
    if (d.kind == diag::W5006) {
      ++ties;
      CHECK(d.message.size() < 300);
    }
  }
  CHECK(sink.error_count() == 0);
  CHECK(ties == n - 1);  // every play but the first by name; 1,770 with one per pair
}
