#include "compiler/check.hpp"

#include "compiler/checker.hpp"

namespace nudge::compiler {

program check(const rule_set& rules, diagnostic_sink& sink) {
  checker c(rules, sink);
  return c.run();
}

check_result check(std::span<const std::string> paths) {
  check_result result;
  result.loaded = load(paths, result.diagnostics);
  if (result.loaded.errors.empty()) result.checked = check(result.loaded.rules, result.diagnostics);
  result.diagnostics.sort();
  return result;
}

}  // namespace nudge::compiler
