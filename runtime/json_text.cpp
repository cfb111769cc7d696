#include "runtime/json_text.hpp"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "grammar/text.hpp"

namespace nudge::runtime {

namespace {

// Bytes that a JSON string cannot hold as they are (quote, backslash, control characters)
// and the first bytes of multi-byte UTF-8 sequences, which must be checked.
constexpr auto special = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<std::size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

}  // namespace

// One pass: runs of plain bytes are copied whole, valid UTF-8 sequences as they are; a
// string with invalid UTF-8 anywhere is written again by nlohmann, which replaces it.
void append_json_string(std::string& out, std::string_view s) {
  const std::size_t mark = out.size();
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t run = i;
    while (run < s.size()) {
      const auto b = static_cast<unsigned char>(s[run]);
      if (!special[b]) {
        ++run;
      } else if (b >= 0x80) {
        const std::size_t len = grammar::utf8_sequence_length(s, run);
        if (len == 0) {
          out.resize(mark);
          out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          return;
        }
        run += len;
      } else {
        break;
      }
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const char c = s[i++];
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
    }
  }
  out += '"';
}

void append_json_double(std::string& out, double v) { out += nlohmann::json(v).dump(); }

void append_json_key(std::string& out, std::string_view name, bool first) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
}

void append_json_field(std::string& out, std::string_view name, std::string_view value, bool first) {
  append_json_key(out, name, first);
  append_json_string(out, value);
}

}  // namespace nudge::runtime
