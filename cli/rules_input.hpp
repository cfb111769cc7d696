// Shared by the commands that run rules: check and lower a rule set (from sources or a
// bundle), or report why not.
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
// `exit` set (1 for errors in the rules, 2 for unreadable paths or a bad bundle). A single
// path to a bundle (`nudge build`) is read as the rules it holds.
std::optional<compiled_rules> compile_rules(const std::vector<std::string>& paths, int& exit);

// Writes a bundle: the checked sources, their hash and their lowered code (docs/operations.md).
bool write_bundle(const compiled_rules& rules, const std::string& path);

}  // namespace nudge::cli
