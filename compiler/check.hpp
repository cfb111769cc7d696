// The front end in one call: load, parse, resolve, type-check and lint a rule set.
#pragma once

#include <span>
#include <string>

#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"
#include "support/diagnostics.hpp"

namespace nudge::compiler {

struct check_result {
  load_result loaded;
  program checked;
  diagnostic_sink diagnostics;  // sorted by file and position
};

check_result check(std::span<const std::string> paths);

// Checks an already loaded (or in-memory) rule set; diagnostics go to `sink`.
program check(const rule_set& rules, diagnostic_sink& sink);

}  // namespace nudge::compiler
