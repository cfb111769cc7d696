// Diagnostics as data: what went wrong, where (a full span), and what to do.
// Rendering (text, JSON, SARIF, GitHub) lives in support/render.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/source.hpp"

namespace nudge {

// note: information about rules that are fine (which play wins a collision); never fails a
// check, also not with --werror.
enum class severity : std::uint8_t { error, warning, note };

enum class diag : std::uint16_t {
#define DIAG(code, sev, name, summary) code,
#include "support/diagnostic_kinds.def"
#undef DIAG
};

struct diag_info {
  diag kind;
  std::string_view code;
  severity sev;
  std::string_view name;
  std::string_view summary;
};

const diag_info& info(diag kind);
std::span<const diag_info> all_diagnostic_kinds();
std::string_view to_string(severity s);

struct diag_note {
  span where;
  std::string message;
};

struct diagnostic {
  diag kind;
  severity sev;
  span where;
  std::string message;
  std::vector<diag_note> notes;
  std::string help;
};

// Collects diagnostics from every phase; never throws, never stops a phase.
class diagnostic_sink {
 public:
  diagnostic& report(diag kind, span where, std::string message);
  const std::vector<diagnostic>& all() const { return items_; }
  std::vector<diagnostic>& all() { return items_; }
  std::size_t error_count() const;
  std::size_t warning_count() const;
  std::size_t note_count() const;
  // Stable order for output: by file, position, then code.
  void sort();

 private:
  std::vector<diagnostic> items_;
};

// Helpers for messages: "did you mean" suggestions by edit distance.
std::size_t edit_distance(std::string_view a, std::string_view b);
std::string closest(std::string_view name, std::span<const std::string> candidates);
std::string closest(std::string_view name, std::span<const std::string_view> candidates);

}  // namespace nudge
