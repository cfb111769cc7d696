// Writing JSON as text, for the records every night writes by the hundred thousand: the
// same bytes nlohmann::json::dump(-1, ' ', false, replace) writes, without building an
// object tree per record.
#pragma once

#include <string>
#include <string_view>

namespace nudge::runtime {

// `s` as a JSON string literal: UTF-8 kept as is, `"` `\` and control characters escaped;
// text that is not valid UTF-8 gets its invalid bytes replaced (U+FFFD), as nlohmann does.
void append_json_string(std::string& out, std::string_view s);

// A number as nlohmann writes a double (shortest round trip; 1.0 keeps its `.0`).
void append_json_double(std::string& out, double v);

// `,"name":` (or `"name":` when `first`).
void append_json_key(std::string& out, std::string_view name, bool first = false);

// `,"name":"value"` (or without the comma when `first`).
void append_json_field(std::string& out, std::string_view name, std::string_view value, bool first = false);

}  // namespace nudge::runtime
