#include "support/render.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

namespace nudge {
namespace {

using json = nlohmann::ordered_json;

struct range {
  line_col begin;
  line_col end;
};

range range_of(const source_map& sources, span s) {
  const source_file& f = sources.file(s.file);
  return {f.position(s.begin), f.position(s.end)};
}

// The line as a terminal can show it: control characters and invalid UTF-8 bytes become
// U+FFFD, one column each, so the caret below still lines up.
std::string printable(std::string_view line) {
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    const auto c = static_cast<unsigned char>(line[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len != 0 && i + len <= line.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    if (!ok || (c < 0x20 && c != '\t') || c == 0x7F) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(line.substr(i, len));
    i += len;
  }
  return out;
}

std::string_view paint(bool color, std::string_view code) { return color ? code : ""; }

void render_excerpt(std::ostream& out, const source_file& file, span s, bool color, std::string_view underline_color) {
  const line_col b = file.position(s.begin);
  const line_col e = file.position(s.end);
  const std::string_view line = file.line_text(b.line);
  const std::string gutter = fmt::format("{:>5} | ", b.line);
  out << gutter << printable(line) << '\n';
  // Build the caret line with the same tabs as the source so it lines up in a terminal.
  std::string pad;
  std::uint32_t column = 1;
  for (std::size_t i = 0; i < line.size() && column < b.column; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;
    pad += line[i] == '\t' ? '\t' : ' ';
    ++column;
  }
  std::uint32_t width = 1;
  if (e.line == b.line && e.column > b.column) {
    width = e.column - b.column;
  } else if (e.line > b.line) {
    // A multi-line span: underline to the end of its first line.
    std::uint32_t line_columns = 1;
    for (const char ch : line) {
      if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++line_columns;
    }
    width = line_columns > b.column ? line_columns - b.column : 1;
  }
  out << "      | " << pad << paint(color, underline_color) << std::string(width, '^') << paint(color, "\033[0m")
      << '\n';
}

std::string github_escape(std::string_view text, bool property) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string full_message(const diagnostic& d) {
  std::string text = d.message;
  for (const diag_note& n : d.notes) text += "; note: " + n.message;
  if (!d.help.empty()) text += "; help: " + d.help;
  return text;
}

json location_json(const source_map& sources, span s) {
  const range r = range_of(sources, s);
  return json{{"file", sources.file(s.file).path()},
              {"line", r.begin.line},
              {"column", r.begin.column},
              {"end_line", r.end.line},
              {"end_column", r.end.column}};
}

void render_json(std::ostream& out, const source_map& sources, std::span<const diagnostic> diagnostics) {
  json list = json::array();
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const diagnostic& d : diagnostics) {
    json item = location_json(sources, d.where);
    item["severity"] = to_string(d.sev);
    item["code"] = info(d.kind).code;
    item["message"] = d.message;
    json notes = json::array();
    for (const diag_note& n : d.notes) {
      json note = location_json(sources, n.where);
      note["message"] = n.message;
      notes.push_back(std::move(note));
    }
    item["notes"] = std::move(notes);
    if (!d.help.empty()) item["help"] = d.help;
    list.push_back(std::move(item));
    if (d.sev == severity::error) ++errors;
    if (d.sev == severity::warning) ++warnings;
  }
  const json doc{{"version", 1},
                 {"diagnostics", std::move(list)},
                 {"errors", errors},
                 {"warnings", warnings},
                 {"notes", diagnostics.size() - errors - warnings}};
  out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 1469598103934665603ULL) {
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string sarif_uri(std::string_view path) {
  std::string uri;
  if (path.starts_with("./")) path.remove_prefix(2);
  for (const char c : path) {
    if (c == ' ')
      uri += "%20";
    else if (c == '%')
      uri += "%25";
    else if (c == '\\')
      uri += '/';
    else
      uri += c;
  }
  return uri;
}

void render_sarif(std::ostream& out, const source_map& sources, std::span<const diagnostic> diagnostics,
                  const render_options& options) {
  json rules = json::array();
  for (const diag_info& k : all_diagnostic_kinds()) {
    rules.push_back(json{{"id", k.code},
                         {"name", k.name},
                         {"shortDescription", {{"text", k.summary}}},
                         {"helpUri", fmt::format("docs/diagnostics.md#{}", k.code)},
                         {"defaultConfiguration", {{"level", to_string(k.sev)}}}});
  }
  json results = json::array();
  // Fingerprints use the code, file, spanned text and message but not line numbers, so an
  // edit above a finding does not make code scanning open a new alert for it.
  std::map<std::uint64_t, int> seen;
  for (const diagnostic& d : diagnostics) {
    const source_file& file = sources.file(d.where.file);
    const range r = range_of(sources, d.where);
    std::uint64_t h = fnv1a(info(d.kind).code);
    h = fnv1a(file.path(), h);
    h = fnv1a(file.slice(d.where), h);
    h = fnv1a(d.message, h);
    const int occurrence = seen[h]++;
    json result{{"ruleId", info(d.kind).code},
                {"ruleIndex", static_cast<int>(d.kind)},
                {"level", to_string(d.sev)},
                {"message", {{"text", full_message(d)}}},
                {"locations",
                 json::array({{{"physicalLocation",
                                {{"artifactLocation", {{"uri", sarif_uri(file.path())}, {"uriBaseId", "%SRCROOT%"}}},
                                 {"region",
                                  {{"startLine", r.begin.line},
                                   {"startColumn", r.begin.column},
                                   {"endLine", r.end.line},
                                   {"endColumn", r.end.column}}}}}}})},
                {"partialFingerprints", {{"nudgeDiagnostic/v1", fmt::format("{:016x}:{}", h, occurrence)}}}};
    results.push_back(std::move(result));
  }
  const json doc{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                 {"version", "2.1.0"},
                 {"runs", json::array({{{"tool",
                                         {{"driver",
                                           {{"name", "nudge"},
                                            {"version", options.tool_version},
                                            {"informationUri", "https://example.invalid/nudge/docs/diagnostics.md"},
                                            {"rules", std::move(rules)}}}}},
                                        {"columnKind", "unicodeCodePoints"},
                                        {"results", std::move(results)}}})}};
  out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

void render_github(std::ostream& out, const source_map& sources, std::span<const diagnostic> diagnostics) {
  for (const diagnostic& d : diagnostics) {
    const range r = range_of(sources, d.where);
    out << "::" << (d.sev == severity::note ? std::string_view("notice") : to_string(d.sev))
        << " file=" << github_escape(sources.file(d.where.file).path(), true) << ",line=" << r.begin.line
        << ",col=" << r.begin.column << ",endLine=" << r.end.line << ",endColumn=" << r.end.column
        << ",title=" << info(d.kind).code << "::" << github_escape(full_message(d), false) << '\n';
  }
}

}  // namespace

void render_text(std::ostream& out, const source_map& sources, const diagnostic& d, bool color) {
  const source_file& file = sources.file(d.where.file);
  const line_col at = file.position(d.where.begin);
  const bool is_error = d.sev == severity::error;
  const std::string_view sev_color = is_error ? "\033[1;31m" : d.sev == severity::note ? "\033[1;36m" : "\033[1;33m";
  out << paint(color, "\033[1m") << file.path() << ':' << at.line << ':' << at.column << ": " << paint(color, sev_color)
      << to_string(d.sev) << '[' << info(d.kind).code << ']' << paint(color, "\033[0m\033[1m") << ": " << d.message
      << paint(color, "\033[0m") << '\n';
  render_excerpt(out, file, d.where, color, sev_color);
  for (const diag_note& n : d.notes) {
    const source_file& nf = sources.file(n.where.file);
    const line_col np = nf.position(n.where.begin);
    out << nf.path() << ':' << np.line << ':' << np.column << ": note: " << n.message << '\n';
    render_excerpt(out, nf, n.where, color, "\033[1;36m");
  }
  if (!d.help.empty()) out << "  = help: " << d.help << '\n';
}

void render(std::ostream& out, diag_format format, const source_map& sources, std::span<const diagnostic> diagnostics,
            const render_options& options) {
  switch (format) {
    case diag_format::text:
      for (const diagnostic& d : diagnostics) render_text(out, sources, d, options.color);
      break;
    case diag_format::json:
      render_json(out, sources, diagnostics);
      break;
    case diag_format::sarif:
      render_sarif(out, sources, diagnostics, options);
      break;
    case diag_format::github:
      render_github(out, sources, diagnostics);
      break;
  }
}

}  // namespace nudge
