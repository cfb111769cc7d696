// Printing values in messages, per locale (docs/data.md#formatting):
//   ru: 240 000 ₸   +18,3 %   3 декабря 2026   1 234   да
//   en: ₸240,000    +18.3%    Dec 3, 2026      1,234   yes
// Spaces inside a value are no-break spaces (U+00A0), so a value never wraps across lines.
#pragma once

#include <string>
#include <string_view>

#include "compiler/ir.hpp"
#include "compiler/program.hpp"
#include "runtime/dataset.hpp"
#include "runtime/eval.hpp"

namespace nudge::runtime {

struct format_context {
  const compiler::program& checked;
  const string_pool& strings;
};

std::string format_value(const value& v, const ir::value_ref& how, std::string_view locale, const format_context& ctx);

// Formats a money amount in minor units of currency `currency` (an index of known_currencies).
std::string format_money(std::int64_t minor, std::size_t currency, std::string_view locale);
std::string format_percent(double fraction, bool with_sign, std::string_view locale);
std::string format_date(day_number d, std::string_view locale);
std::string format_integer(std::int64_t v, std::string_view locale);
std::string format_number(double v, std::string_view locale);

}  // namespace nudge::runtime
