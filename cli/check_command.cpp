// `nudge check`: lint rule files for CI and for authors.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "compiler/check.hpp"
#include "compiler/dump.hpp"
#include "compiler/lower.hpp"
#include "support/render.hpp"

namespace nudge::cli {
namespace {

struct check_options {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string dump;
  std::string color = "auto";
  bool werror = false;
};

bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  return std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO) != 0;
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

int run_check(const check_options& o) {
  const compiler::check_result result = compiler::check(o.paths);
  if (!result.loaded.errors.empty()) {
    for (const compiler::load_error& e : result.loaded.errors) {
      std::cerr << "nudge: error: cannot read `" << e.path << "`: " << e.message << '\n';
    }
    return exit_code::usage;
  }
  const auto& diagnostics = result.diagnostics.all();
  const std::size_t errors = result.diagnostics.error_count();
  const std::size_t warnings = result.diagnostics.warning_count();
  const std::size_t notes = result.diagnostics.note_count();
  if (o.dump == "ast") compiler::dump_ast(std::cout, result.loaded.rules);
  if (o.dump == "typed") compiler::dump_typed(std::cout, result.loaded.rules, result.checked);
  if (o.dump == "lowered") {
    if (errors == 0) {
      const ir::module lowered = compiler::lower(result.loaded.rules, result.checked);
      compiler::dump_lowered(std::cout, result.loaded.rules, result.checked, lowered);
    } else {
      std::cout << "(not lowered: the rules have errors)\n";
    }
  }

  const diag_format format = o.format == "json"     ? diag_format::json
                             : o.format == "sarif"  ? diag_format::sarif
                             : o.format == "github" ? diag_format::github
                                                    : diag_format::text;
  render(std::cout, format, result.loaded.rules.sources, diagnostics,
         render_options{use_color(o.color), NUDGE_VERSION});
  if (format == diag_format::text) {
    const std::size_t files = result.loaded.rules.sources.size();
    if (errors == 0 && warnings == 0) {
      std::cout << "nudge: " << plural(files, "file") << " checked, no problems"
                << (notes > 0 ? " (" + plural(notes, "note") + ")" : std::string()) << "\n";
    } else {
      std::cout << "nudge: " << plural(errors, "error") << ", " << plural(warnings, "warning")
                << (notes > 0 ? ", " + plural(notes, "note") : std::string()) << " in "
                << plural(files, "file") << (o.werror && warnings > 0 ? " (warnings are errors: --werror)" : "")
                << '\n';
    }
  }
  std::cout.flush();
  if (errors > 0 || (o.werror && warnings > 0)) return exit_code::findings;
  return exit_code::ok;
}

}  // namespace

command add_check(CLI::App& app) {
  auto opts = std::make_shared<check_options>();
  CLI::App* sub = app.add_subcommand("check", "Parse, type-check and lint rule files (for CI and authors)");
  sub->add_option("paths", opts->paths, "Rule files or folders (searched for *.rule); together they form one rule set")
      ->required();
  sub->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "sarif", "github"}))
      ->capture_default_str();
  sub->add_flag("--werror", opts->werror, "Fail (exit 1) on warnings too");
  sub->add_option("--dump", opts->dump, "Print a compiler phase: ast, typed or lowered")
      ->check(CLI::IsMember({"ast", "typed", "lowered"}));
  sub->add_option("--color", opts->color, "Color in text output")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  return [sub, opts]() -> int { return sub->parsed() ? run_check(*opts) : -1; };
}

}  // namespace nudge::cli
