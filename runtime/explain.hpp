// `nudge explain`: why an account did or did not get each message, for a CSM. For every
// signal: fired, not fired, or could not be evaluated and which data was missing; the value
// of each fact and each comparison; for every play, whether it would fire and why not.
#pragma once

#include <optional>
#include <string>

#include "compiler/ir.hpp"
#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"
#include "runtime/dataset.hpp"

namespace nudge::runtime {

// The account's index in `data`, by the same normalised key as loading uses.
std::optional<std::size_t> find_account(const dataset& data, std::string_view id);

std::string explain_account(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                            dataset& data, std::size_t account);

}  // namespace nudge::runtime
