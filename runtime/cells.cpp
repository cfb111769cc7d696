#include "runtime/cells.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "compiler/lower.hpp"
#include "support/currency.hpp"

namespace nudge::runtime {
namespace {

// UTF-8 spellings of blanks that exports put between thousands.
constexpr std::array<std::string_view, 4> wide_blanks{"\xC2\xA0", "\xE2\x80\xAF", "\xE2\x80\x89", "\xE2\x80\x87"};

std::size_t blank_at(std::string_view s, std::size_t pos) {
  if (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' || s[pos] == '\n') return 1;
  for (const std::string_view b : wide_blanks) {
    if (s.substr(pos, b.size()) == b) return b.size();
  }
  return 0;
}

// Lower-cases ASCII and Cyrillic letters in UTF-8.
std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c + 32);
    } else if ((c == 0xD0) && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x90 && d <= 0x9F) {  // А..П -> а..п
        out += '\xD0';
        out += static_cast<char>(d + 0x20);
      } else if (d >= 0xA0 && d <= 0xAF) {  // Р..Я -> р..я
        out += '\xD1';
        out += static_cast<char>(d - 0x20);
      } else if (d == 0x81) {  // Ё -> ё
        out += "\xD1\x91";
      } else {
        out += static_cast<char>(c);
        out += static_cast<char>(d);
      }
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

constexpr std::array<std::string_view, 22> legal_forms{
    "тоо", "тов", "ооо", "оао", "зао", "пао", "ао", "ип", "чп", "llc", "llp", "inc", "inc.", "ltd", "ltd.",
    "corp", "corp.", "gmbh", "co.", "plc", "jsc", "ojsc"};

bool parse_bool(std::string_view s, bool& out) {
  const std::string v = fold_case(s);
  for (const std::string_view t : {"true", "yes", "y", "1", "да"}) {
    if (v == t) return out = true, true;
  }
  for (const std::string_view f : {"false", "no", "n", "0", "нет"}) {
    if (v == f) return out = false, true;
  }
  return false;
}

std::string quoted(std::string_view s) { return "`" + std::string(s.substr(0, 60)) + "`"; }

}  // namespace

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  while (b < s.size()) {
    const std::size_t n = blank_at(s, b);
    if (n == 0) break;
    b += n;
  }
  std::size_t e = s.size();
  while (e > b) {
    bool trimmed = false;
    if (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n') {
      --e;
      trimmed = true;
    } else {
      for (const std::string_view w : wide_blanks) {
        if (e >= b + w.size() && s.substr(e - w.size(), w.size()) == w) {
          e -= w.size();
          trimmed = true;
          break;
        }
      }
    }
    if (!trimmed) break;
  }
  return s.substr(b, e - b);
}

std::string canonical_decimal(std::string_view raw) {
  std::string s;
  bool negative = false;
  std::size_t i = 0;
  raw = trim(raw);
  if (!raw.empty() && (raw[0] == '-' || raw[0] == '+')) {
    negative = raw[0] == '-';
    i = 1;
  } else if (raw.substr(0, 3) == "\xE2\x88\x92") {  // U+2212 minus sign
    negative = true;
    i = 3;
  }
  std::size_t commas = 0;
  std::size_t dots = 0;
  std::size_t last_comma = 0;
  std::size_t last_dot = 0;
  for (; i < raw.size();) {
    if (const std::size_t n = blank_at(raw, i); n > 0) {
      i += n;
      continue;
    }
    const char c = raw[i];
    if (c >= '0' && c <= '9') {
      s += c;
    } else if (c == ',') {
      ++commas;
      last_comma = s.size();
      s += ',';
    } else if (c == '.') {
      ++dots;
      last_dot = s.size();
      s += '.';
    } else if (c == '\'' || c == '_') {
      // thousands separators
    } else {
      return {};
    }
    ++i;
  }
  if (s.empty()) return {};
  // Which mark is the decimal point: the last of two kinds; a lone comma (Russian style) or
  // a lone dot; a mark that repeats separates thousands.
  std::size_t decimal = std::string::npos;
  if (commas > 0 && dots > 0) {
    decimal = std::max(last_comma, last_dot);
    if ((s[decimal] == ',' && commas > 1) || (s[decimal] == '.' && dots > 1)) return {};
  } else if (commas == 1) {
    decimal = last_comma;
  } else if (dots == 1) {
    decimal = last_dot;
  }
  std::string out = negative ? "-" : "";
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (s[k] >= '0' && s[k] <= '9') {
      out += s[k];
    } else if (k == decimal) {
      out += '.';
    }
  }
  if (out == "-" || out.back() == '.' || out[negative ? 1 : 0] == '.') return {};
  return out;
}

std::string account_key(std::string_view raw) {
  std::string folded = fold_case(trim(raw));
  // Quotes and punctuation around words go; words are split on blanks.
  std::string cleaned;
  for (std::size_t i = 0; i < folded.size(); ++i) {
    const std::string_view rest = std::string_view(folded).substr(i);
    if (rest.starts_with("\xC2\xAB") || rest.starts_with("\xC2\xBB")) {  // « »
      cleaned += ' ';
      ++i;
    } else if (rest.starts_with("\xE2\x80\x9C") || rest.starts_with("\xE2\x80\x9D")) {  // “ ”
      cleaned += ' ';
      i += 2;
    } else if (folded[i] == '"' || folded[i] == ',') {
      cleaned += ' ';
    } else if (const std::size_t n = blank_at(folded, i); n > 0) {
      cleaned += ' ';
      i += n - 1;
    } else {
      cleaned += folded[i];
    }
  }
  std::vector<std::string_view> words;
  std::string_view v(cleaned);
  while (!v.empty()) {
    const std::size_t sp = v.find(' ');
    const std::string_view w = v.substr(0, sp);
    if (!w.empty()) words.push_back(w);
    if (sp == std::string_view::npos) break;
    v.remove_prefix(sp + 1);
  }
  auto is_form = [](std::string_view w) {
    return std::find(legal_forms.begin(), legal_forms.end(), w) != legal_forms.end();
  };
  // A legal form is dropped at either end, but never when it is the whole name.
  while (words.size() > 1 && is_form(words.front())) words.erase(words.begin());
  while (words.size() > 1 && is_form(words.back())) words.pop_back();
  std::string key;
  for (const std::string_view w : words) key += (key.empty() ? "" : " ") + std::string(w);
  return key;
}

namespace {

// `-?[0-9]+(\.[0-9]+)?`: the form of nearly every number in an export, which
// canonical_decimal would return unchanged.
bool plain_decimal(std::string_view s) {
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  const std::size_t digits_from = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == digits_from) return false;
  if (i == s.size()) return true;
  if (s[i] != '.') return false;
  const std::size_t fraction_from = ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i == s.size() && i > fraction_from;
}

// canonical_decimal(v), without making a copy when `v` already is canonical.
std::string_view decimal_of(std::string_view v, std::string& storage) {
  if (plain_decimal(v)) return v;
  storage = canonical_decimal(v);
  return storage;
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string parse_cell(std::string_view raw, const compiler::type& t, const std::vector<compiler::enum_info>& enums,
                       string_pool& strings, cell_value& out) {
  std::string storage;
  using compiler::kind;
  const std::string_view v = trim(raw);
  switch (t.k) {
    case kind::text:
      out.i = strings.intern(v);
      return {};
    case kind::int_: {
      const std::string_view d = decimal_of(v, storage);
      const std::size_t dot = d.find('.');
      if (d.empty() || (dot != std::string::npos && d.find_first_not_of('0', dot + 1) != std::string::npos)) {
        return quoted(v) + " is not a whole number";
      }
      const std::string_view whole = d.substr(0, dot);
      const auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), out.i);
      if (ec != std::errc()) return quoted(v) + " is out of range";
      return {};
    }
    case kind::number:
    case kind::percent: {
      std::string_view n = v;
      const bool pct = n.ends_with('%');
      if (pct) n = trim(n.substr(0, n.size() - 1));
      const std::string_view d = decimal_of(n, storage);
      if (d.empty()) return quoted(v) + " is not a number";
      const auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), out.f);
      if (ec != std::errc() || !std::isfinite(out.f)) return quoted(v) + " is out of range";
      if (pct) {
        if (t.k != kind::percent) return quoted(v) + " is a percentage, but the field is a number";
        out.f /= 100.0;
      }
      return {};
    }
    case kind::money: {
      const currency& cur = currency_at(t.ref);
      std::string_view n = v;
      for (const std::string_view mark : {cur.code, cur.symbol}) {
        if (n.starts_with(mark)) n = trim(n.substr(mark.size()));
        if (n.ends_with(mark)) n = trim(n.substr(0, n.size() - mark.size()));
      }
      const std::string_view d = decimal_of(n, storage);
      if (d.empty()) {
        return quoted(v) + " is not an amount in " + std::string(cur.code);
      }
      const bool negative = d.starts_with('-');
      const std::string_view digits = negative ? d.substr(1) : d;
      if (digits.size() > 17) return quoted(v) + " is out of range";
      const std::int64_t minor = compiler::minor_units(digits, cur.minor_digits);
      out.i = negative ? -minor : minor;
      return {};
    }
    case kind::bool_: {
      bool b = false;
      if (!parse_bool(v, b)) return quoted(v) + " is not yes/no (true, false, yes, no, 1, 0, да, нет)";
      out.i = b ? 1 : 0;
      return {};
    }
    case kind::date: {
      const auto d = parse_date(v);
      if (!d) return quoted(v) + " is not a date in the form YYYY-MM-DD";
      out.i = *d;
      return {};
    }
    case kind::enum_: {
      const compiler::enum_info& e = enums[t.ref];
      for (std::size_t k = 0; k < e.variants.size(); ++k) {
        if (equal_ignoring_ascii_case(e.variants[k], v)) {
          out.i = static_cast<std::int64_t>(k);
          return {};
        }
      }
      std::string all;
      for (const std::string& x : e.variants) all += (all.empty() ? "" : ", ") + x;
      return quoted(v) + " is not one of " + e.name + "'s values (" + all + ")";
    }
    default: return "the field's type cannot be read from data";
  }
}

std::uint32_t string_pool::intern(std::string_view s) {
  const auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.emplace_back(s);
  index_.emplace(std::string_view(strings_.back()), id);
  return id;
}

}  // namespace nudge::runtime
