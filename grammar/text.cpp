#include "grammar/text.hpp"

namespace nudge::grammar {
namespace {

char escaped(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    default:
      return c;  // \" \\ \{ \}
  }
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// Parses `name(.name)*` with optional surrounding blanks; false when malformed.
bool parse_path(std::string_view text, std::uint32_t base, file_id file, std::vector<ast::identifier>& path) {
  std::size_t i = 0;
  auto skip_blanks = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_blanks();
  while (true) {
    if (i >= text.size() || !is_ident_start(text[i])) return false;
    const std::size_t begin = i;
    while (i < text.size() && is_ident_char(text[i])) ++i;
    path.push_back({std::string(text.substr(begin, i - begin)),
                    span{file, base + static_cast<std::uint32_t>(begin), base + static_cast<std::uint32_t>(i)}});
    skip_blanks();
    if (i == text.size()) return true;
    if (text[i] != '.') return false;
    ++i;
    skip_blanks();
  }
}

}  // namespace

std::string unescape(std::string_view source, span where) {
  std::string out;
  const std::uint32_t end = where.end > where.begin + 1 ? where.end - 1 : where.end;
  for (std::uint32_t i = where.begin + 1; i < end; ++i) {
    if (source[i] == '\\' && i + 1 < end) {
      out += escaped(source[++i]);
    } else {
      out += source[i];
    }
  }
  return out;
}

ast::message_text parse_message(std::string_view source, span where, diagnostic_sink& sink) {
  ast::message_text m;
  m.where = where;
  m.pieces.emplace_back();
  const std::uint32_t end = where.end > where.begin + 1 ? where.end - 1 : where.end;
  for (std::uint32_t i = where.begin + 1; i < end; ++i) {
    const char c = source[i];
    if (c == '\\' && i + 1 < end) {
      m.pieces.back() += escaped(source[++i]);
      continue;
    }
    if (c == '}') {
      sink.report(diag::E1006, span{where.file, i, i + 1},
                  "unmatched `}` in message text; write `\\}` for a literal brace");
      continue;
    }
    if (c != '{') {
      m.pieces.back() += c;
      continue;
    }
    const std::size_t close = source.substr(0, end).find('}', i + 1);
    const std::size_t next_open = source.substr(0, end).find('{', i + 1);
    if (close == std::string_view::npos || next_open < close) {
      sink.report(diag::E1006, span{where.file, i, i + 1},
                  "placeholder `{` is not closed; write `{fact}`, or `\\{` for a literal brace");
      continue;
    }
    const auto close32 = static_cast<std::uint32_t>(close);
    ast::placeholder p;
    p.where = span{where.file, i, close32 + 1};
    const std::string_view inside = source.substr(i + 1, close - i - 1);
    if (!parse_path(inside, i + 1, where.file, p.path)) {
      sink.report(diag::E1006, p.where,
                  "placeholder `{" + std::string(inside) +
                      "}` must name a fact or field, such as `{growth}` or `{signal.fact}`");
    } else {
      m.placeholders.push_back(std::move(p));
      m.pieces.emplace_back();
    }
    i = close32;
  }
  return m;
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  unsigned cp = c & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(text[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return len;
}

std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string hex_byte(unsigned char c) {
  constexpr char digits[] = "0123456789ABCDEF";
  return std::string{digits[c >> 4], digits[c & 0xF]};
}

}  // namespace nudge::grammar
