#include "runtime/json_text.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "grammar/text.hpp"

namespace nudge::runtime {

void append_json_string(std::string& out, std::string_view s) {
  if (grammar::first_invalid_utf8(s) != std::string_view::npos) {
    out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
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
