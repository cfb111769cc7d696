// Golden tests: every tests/check/<case>.rule is checked by the real binary and its output
// (text diagnostics and the exit code) compared with <case>.out. Files named fail_* must
// produce diagnostics; all others must be clean. NUDGE_UPDATE_GOLDEN=1 rewrites the .out files.
#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "support/diagnostics.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nudge::test::compare_golden;
using nudge::test::run_nudge;
using nudge::test::tests_dir;

namespace {

std::vector<fs::path> cases(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ext) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string golden_output(const nudge::test::run_result& r) {
  return r.out + r.err + "exit code: " + std::to_string(r.exit_code) + "\n";
}

}  // namespace

TEST_CASE("golden: diagnostics of every tests/check case match their .out file", "[golden]") {
  const auto files = cases(tests_dir() / "check", ".rule");
  REQUIRE(files.size() > 40);
  for (const fs::path& file : files) {
    const std::string name = file.stem().string();
    const std::string rel = "check/" + file.filename().string();
    INFO("case " << rel);
    const auto r = run_nudge({"check", "--color", "never", rel}, tests_dir());
    CHECK(compare_golden(file.parent_path() / (name + ".out"), golden_output(r)) == "");
    if (name.starts_with("fail_")) {
      CHECK(r.out.find("nudge: 0 errors, 0 warnings") == std::string::npos);
      CHECK(r.out.find("no problems") == std::string::npos);
    } else {
      CHECK(r.out.find("no problems") != std::string::npos);
      CHECK(r.exit_code == 0);
    }
  }
}

TEST_CASE("golden: every diagnostic code is exercised by a golden case", "[golden]") {
  std::set<std::string> seen;
  const std::regex code(R"((error|warning|note)\[([EWN][0-9]{4})\])");
  for (const fs::path& out : cases(tests_dir() / "check", ".out")) {
    const std::string text = nudge::test::read_file(out);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), code); it != std::sregex_iterator(); ++it) {
      seen.insert((*it)[2].str());
    }
  }
  for (const nudge::diag_info& k : nudge::all_diagnostic_kinds()) {
    INFO("diagnostic " << k.code << " (" << k.name << ") has no golden case in tests/check/");
    CHECK(seen.contains(std::string(k.code)));
  }
}

TEST_CASE("golden: --dump=ast, typed and lowered of tests/dump cases", "[golden][dump]") {
  const auto files = cases(tests_dir() / "dump", ".rule");
  REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    const std::string rel = "dump/" + file.filename().string();
    for (const std::string phase : {"ast", "typed", "lowered"}) {
      INFO("case " << rel << " phase " << phase);
      const auto r = run_nudge({"check", "--color", "never", "--dump=" + phase, rel}, tests_dir());
      CHECK(compare_golden(file.parent_path() / (file.stem().string() + "." + phase), golden_output(r)) == "");
    }
  }
}

TEST_CASE("golden: every doc example of a diagnostic names a registered code", "[golden][docs]") {
  const std::string doc = nudge::test::read_file(fs::path(NUDGE_SOURCE_DIR) / "docs" / "diagnostics.md");
  for (const nudge::diag_info& k : nudge::all_diagnostic_kinds()) {
    INFO("docs/diagnostics.md does not document " << k.code);
    CHECK(doc.find("### " + std::string(k.code)) != std::string::npos);
  }
}
