// Renders diagnostics for people (text with carets), programs (JSON), code scanning (SARIF 2.1.0)
// and GitHub Actions annotations. Rendering never changes the diagnostics.
#pragma once

#include <iosfwd>
#include <span>
#include <string>

#include "support/diagnostics.hpp"
#include "support/source.hpp"

namespace nudge {

enum class diag_format { text, json, sarif, github };

struct render_options {
  bool color = false;
  std::string tool_version;
};

void render(std::ostream& out, diag_format format, const source_map& sources, std::span<const diagnostic> diagnostics,
            const render_options& options);

void render_text(std::ostream& out, const source_map& sources, const diagnostic& d, bool color);

}  // namespace nudge
