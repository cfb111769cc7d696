// Source positions, suggestions and UTF-8 checks: the pieces every diagnostic relies on.
#include <catch2/catch.hpp>

#include "grammar/text.hpp"
#include "support/diagnostics.hpp"
#include "support/source.hpp"

using namespace nudge;

TEST_CASE("source: line and column count code points, not bytes", "[support]") {
  const source_file f("x.rule", "ab\nпривет x\n");
  CHECK(f.position(0).line == 1);
  CHECK(f.position(3).line == 2);
  CHECK(f.position(3).column == 1);
  // "привет " is 13 bytes: x is the 8th code point.
  CHECK(f.position(16).column == 8);
  CHECK(f.line_text(2) == "привет x");
}

TEST_CASE("suggest: did-you-mean finds close names and ignores far ones", "[support]") {
  const std::vector<std::string> names{"mrr", "arpa", "renewal_date", "tier"};
  CHECK(closest("mmr", names) == "mrr");
  CHECK(closest("renewal_dat", names) == "renewal_date");
  CHECK(closest("tire", names) == "tier");
  CHECK(closest("zzzzzz", names).empty());
}

TEST_CASE("utf8: overlong, truncated and surrogate sequences are invalid", "[support]") {
  CHECK(grammar::first_invalid_utf8("plain ascii") == std::string::npos);
  CHECK(grammar::first_invalid_utf8("тенге ₸") == std::string::npos);
  CHECK(grammar::first_invalid_utf8("a\xff") == 1);
  CHECK(grammar::first_invalid_utf8("\xc0\xaf") == 0);      // overlong '/'
  CHECK(grammar::first_invalid_utf8("ab\xe2\x82") == 2);    // truncated
  CHECK(grammar::first_invalid_utf8("\xed\xa0\x80") == 0);  // surrogate
}

TEST_CASE("diagnostics: sorted by file, then position", "[support]") {
  diagnostic_sink sink;
  sink.report(diag::E2001, span{1, 5, 6}, "c");
  sink.report(diag::E2001, span{0, 9, 10}, "b");
  sink.report(diag::E2001, span{0, 2, 3}, "a");
  sink.sort();
  CHECK(sink.all()[0].message == "a");
  CHECK(sink.all()[1].message == "b");
  CHECK(sink.all()[2].message == "c");
}
