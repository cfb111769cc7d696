// Lowering: a checked rule set becomes ir::module, the register code the runtime runs.
// Requires a rule set that checked without errors.
#pragma once

#include <iosfwd>

#include "compiler/ir.hpp"
#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"

namespace nudge::compiler {

ir::module lower(const rule_set& rules, const program& checked);

// `nudge check --dump=lowered`: the register code, one instruction per line.
void dump_lowered(std::ostream& out, const rule_set& rules, const program& checked, const ir::module& m);

// Money literal digits ("12.50") in minor units of a currency with `minor_digits` decimals;
// extra decimals are rounded half away from zero.
std::int64_t minor_units(std::string_view amount, int minor_digits);

}  // namespace nudge::compiler
