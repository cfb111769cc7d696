// Parses one .rule file into a syntax tree plus diagnostics. Never throws for bad input:
// syntax errors become diagnostics, and parsing resumes at the next declaration.
#pragma once

#include "grammar/ast.hpp"
#include "support/diagnostics.hpp"
#include "support/source.hpp"

namespace nudge::grammar {

// Expressions nested deeper than this are rejected (E1004) so that no input can exhaust the
// stack of the parser or of the later phases, which recurse over expressions.
inline constexpr int max_nesting = 64;

ast::module parse(const source_file& file, file_id id, diagnostic_sink& sink);

}  // namespace nudge::grammar
