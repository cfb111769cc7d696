// Text dumps of the phases (`nudge check --dump=ast|typed`): stable output for golden tests
// and for authors who want to see how a rule was read.
#pragma once

#include <iosfwd>

#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"

namespace nudge::compiler {

void dump_ast(std::ostream& out, const rule_set& rules);
// The AST again, with each expression's type and each name's resolution.
void dump_typed(std::ostream& out, const rule_set& rules, const program& checked);

}  // namespace nudge::compiler
