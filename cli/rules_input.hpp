// Shared by the commands that run rules: check and lower a rule set, or report why not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/check.hpp"
#include "compiler/ir.hpp"

namespace nudge::cli {

struct compiled_rules {
  compiler::check_result checked;
  ir::module lowered;
  std::string hash;  // of the rule files' paths and contents
};

// Checks and lowers; on errors prints the diagnostics to stderr and returns nullopt with
// `exit` set (1 for errors in the rules, 2 for unreadable paths).
std::optional<compiled_rules> compile_rules(const std::vector<std::string>& paths, int& exit);

}  // namespace nudge::cli
