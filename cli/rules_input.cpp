#include "cli/rules_input.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "compiler/lower.hpp"
#include "support/render.hpp"

namespace nudge::cli {

std::optional<compiled_rules> compile_rules(const std::vector<std::string>& paths, int& exit) {
  compiled_rules out;
  out.checked = compiler::check(paths);
  const compiler::check_result& r = out.checked;
  if (!r.loaded.errors.empty()) {
    for (const compiler::load_error& e : r.loaded.errors) {
      std::cerr << "nudge: error: cannot read `" << e.path << "`: " << e.message << '\n';
    }
    exit = exit_code::usage;
    return std::nullopt;
  }
  if (r.diagnostics.error_count() > 0) {
    render(std::cerr, diag_format::text, r.loaded.rules.sources, r.diagnostics.all(), render_options{false, NUDGE_VERSION});
    std::cerr << "nudge: the rules have errors; fix them (see `nudge check`) before running\n";
    exit = exit_code::findings;
    return std::nullopt;
  }
  out.lowered = compiler::lower(r.loaded.rules, r.checked);
  // FNV-1a over the files in path order: the same sources give the same hash on any machine.
  std::vector<const source_file*> files;
  for (const source_file& f : r.loaded.rules.sources.files()) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const source_file* a, const source_file* b) { return a->path() < b->path(); });
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;
    h *= 1099511628211ULL;
  };
  for (const source_file* f : files) {
    mix(f->path());
    mix(f->text());
  }
  out.hash = fmt::format("{:016x}", h);
  return out;
}

}  // namespace nudge::cli
