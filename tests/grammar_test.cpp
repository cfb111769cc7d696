// The grammar itself: no rule can loop without consuming input, and the parser keeps spans,
// comments and recovers at declaration boundaries.
#include <catch2/catch.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/parser.hpp"
#include "grammar/rules.hpp"

using namespace nudge;

namespace {

ast::module parse_text(const std::string& text, diagnostic_sink& sink, source_map& map) {
  const file_id id = map.add("t.rule", text);
  return grammar::parse(map.file(id), id, sink);
}

}  // namespace

TEST_CASE("grammar: analyze finds no rule that can loop without progress", "[grammar]") {
  CHECK(tao::pegtl::analyze<grammar::declaration>(1) == 0);
  CHECK(tao::pegtl::analyze<grammar::ws>(1) == 0);
}

TEST_CASE("parser: comments are kept with exact spans", "[grammar]") {
  diagnostic_sink sink;
  source_map map;
  const auto m = parse_text("# first\nschema { history 30d # trailing\n  mrr: money(KZT) }\n", sink, map);
  REQUIRE(sink.all().empty());
  REQUIRE(m.comments.size() == 2);
  CHECK(map.file(0).slice(m.comments[0]) == "# first");
  CHECK(map.file(0).slice(m.comments[1]) == "# trailing");
}

TEST_CASE("parser: a declaration's span ends at its last token, not at following comments", "[grammar]") {
  diagnostic_sink sink;
  source_map map;
  const auto m = parse_text("signal s { when true }  # done\n\n# next\n", sink, map);
  REQUIRE(m.signals.size() == 1);
  CHECK(map.file(0).slice(m.signals[0].where) == "signal s { when true }");
}

TEST_CASE("parser: an error in one declaration does not hide the next", "[grammar][recovery]") {
  diagnostic_sink sink;
  source_map map;
  const auto m = parse_text(
      "signal a { when = }\nsignal b { when true }\nplay p on b {\n  channel\n}\nsignal c { when true }\n", sink, map);
  CHECK(sink.error_count() == 2);
  CHECK(m.signals.size() == 2);  // b and c
  REQUIRE(m.broken.size() == 2);
  CHECK(m.broken[0].name == "a");
  CHECK(m.broken[1].name == "p");
}

TEST_CASE("parser: operators bind by precedence and fold to the left", "[grammar]") {
  diagnostic_sink sink;
  source_map map;
  const auto m = parse_text("signal s { let x = 1 - 2 - 3 * 4  when x > 0 or x < -1 and true }\n", sink, map);
  REQUIRE(sink.all().empty());
  const ast::expr& let = m.at(m.signals[0].lets[0].value);
  const auto& sub = std::get<ast::binary>(let.kind);
  CHECK(sub.op == ast::binary_op::sub);
  CHECK(map.file(0).slice(m.at(sub.lhs).where) == "1 - 2");
  CHECK(map.file(0).slice(m.at(sub.rhs).where) == "3 * 4");
  const auto& cond = std::get<ast::binary>(m.at(m.signals[0].conditions[0]).kind);
  CHECK(cond.op == ast::binary_op::logical_or);
}

TEST_CASE("parser: literals carry their values", "[grammar]") {
  diagnostic_sink sink;
  source_map map;
  const auto m =
      parse_text("signal s { let a = 8w let b = 12.5% let c = 240_000 KZT let d = \"a\\\"b\" when true }\n", sink, map);
  REQUIRE(sink.all().empty());
  const auto& lets = m.signals[0].lets;
  CHECK(std::get<ast::duration_lit>(m.at(lets[0].value).kind).days == 56);
  CHECK(std::get<ast::percent_lit>(m.at(lets[1].value).kind).value == Approx(0.125));
  CHECK(std::get<ast::money_lit>(m.at(lets[2].value).kind).amount == "240000");
  CHECK(std::get<ast::money_lit>(m.at(lets[2].value).kind).currency.name == "KZT");
  CHECK(std::get<ast::string_lit>(m.at(lets[3].value).kind).value == "a\"b");
}

TEST_CASE("parser: message placeholders are split from the text with their spans", "[grammar]") {
  diagnostic_sink sink;
  source_map map;
  const auto m =
      parse_text("play p on s { why_now ru \"Рост {growth}, см. {s.x}\" en \"a \\{literal\\}\" }\n", sink, map);
  REQUIRE(sink.all().empty());
  const auto& variants = m.plays[0].body.parts[0].variants;
  REQUIRE(variants.size() == 2);
  const ast::message_text& ru = variants[0].text;
  REQUIRE(ru.placeholders.size() == 2);
  CHECK(map.file(0).slice(ru.placeholders[0].where) == "{growth}");
  CHECK(ru.placeholders[1].path.size() == 2);
  CHECK(ru.pieces.front() == "Рост ");
  CHECK(variants[1].text.pieces.front() == "a {literal}");
  CHECK(variants[1].text.placeholders.empty());
}
