// Reading one value of a CRM export: numbers with either decimal separator and spaces
// between thousands, money with or without its currency, ISO dates, enum variants by name,
// yes/no in English and Russian. Also the normalisation of account ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/types.hpp"
#include "runtime/dataset.hpp"

namespace nudge::runtime {

struct cell_value {
  std::int64_t i = 0;
  double f = 0;
};

// Parses `raw` as type `t`. Returns an empty string on success, else the reason, written
// for the quarantine report ("`12,5,0` is not a number").
std::string parse_cell(std::string_view raw, const compiler::type& t, const std::vector<compiler::enum_info>& enums,
                       string_pool& strings, cell_value& out);

// "1 234,50" -> "1234.50", "1,234.50" -> "1234.50", "-5" -> "-5"; empty when not a number.
std::string canonical_decimal(std::string_view raw);

// Trims blanks (including no-break spaces) at both ends.
std::string_view trim(std::string_view s);

// The key that identifies an account: trimmed, case-folded (Latin and Cyrillic), inner
// blanks collapsed, quotes and legal-form words (ТОО, LLC, Inc. ...) removed, so that
// "ТОО «Ромашка»" and "ромашка" are one account.
std::string account_key(std::string_view raw);

}  // namespace nudge::runtime
