// A rule set: the .rule files named on the command line (folders expanded) plus the files
// they `use`, each parsed into a module. Loading never throws for bad rule text.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "grammar/ast.hpp"
#include "support/diagnostics.hpp"
#include "support/source.hpp"

namespace nudge::compiler {

struct rule_set {
  source_map sources;
  std::vector<ast::module> modules;  // modules[i].file == i
  // A file was skipped (not UTF-8 text) or a `use` could not be read: declarations may be
  // missing, so "no schema" and similar errors would only repeat the first one.
  bool incomplete = false;
};

// A problem of the machine or the command line (missing path, unreadable file): not a
// diagnostic in the user's rules, so the CLI exits 2.
struct load_error {
  std::string path;
  std::string message;
};

struct load_result {
  rule_set rules;
  std::vector<load_error> errors;
};

// Expands folders (recursively, *.rule files in sorted order), reads and parses every file
// once, and follows `use "file.rule"` relative to the using file.
load_result load(std::span<const std::string> paths, diagnostic_sink& sink);

// Parses in-memory text as a one-file rule set (tests, editors).
rule_set from_text(std::string path, std::string text, diagnostic_sink& sink);

// Parses files given with their text (a bundle). Every file a `use` names is expected among
// them already, so `use` is not followed.
rule_set from_files(const std::vector<std::pair<std::string, std::string>>& files, diagnostic_sink& sink);

}  // namespace nudge::compiler
