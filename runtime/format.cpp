#include "runtime/format.hpp"

#include <fmt/format.h>

#include <cmath>

#include "support/currency.hpp"

namespace nudge::runtime {
namespace {

constexpr std::string_view nbsp = "\xC2\xA0";

bool russian(std::string_view locale) { return locale == "ru"; }

// Groups the digits of a non-negative whole number by thousands.
std::string group(std::uint64_t v, std::string_view separator) {
  std::string digits = std::to_string(v);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out += digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) {
    out += separator;
    out += digits.substr(i, 3);
  }
  return out;
}

std::string minus(bool negative) { return negative ? "-" : ""; }

// A decimal with at most `places` digits after the point, trailing zeros dropped.
std::string decimal(double v, int places, std::string_view locale) {
  const bool negative = v < 0;
  const double scale = std::pow(10.0, places);
  const auto scaled = static_cast<std::uint64_t>(std::llround(std::fabs(v) * scale));
  const auto whole = static_cast<std::uint64_t>(scaled / static_cast<std::uint64_t>(scale));
  std::uint64_t frac = scaled % static_cast<std::uint64_t>(scale);
  int digits = places;
  while (digits > 0 && frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  std::string out = minus(negative && scaled != 0) + group(whole, russian(locale) ? nbsp : ",");
  if (digits > 0) out += (russian(locale) ? "," : ".") + fmt::format("{:0{}}", frac, digits);
  return out;
}

constexpr std::string_view months_ru[] = {"января", "февраля", "марта",    "апреля",  "мая",    "июня",
                                          "июля",   "августа", "сентября", "октября", "ноября", "декабря"};
constexpr std::string_view months_en[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string format_integer(std::int64_t v, std::string_view locale) {
  const std::uint64_t magnitude = v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
  return minus(v < 0) + group(magnitude, russian(locale) ? nbsp : ",");
}

std::string format_number(double v, std::string_view locale) { return decimal(v, 2, locale); }

std::string format_percent(double fraction, bool with_sign, std::string_view locale) {
  const double pct = fraction * 100.0;
  std::string body = decimal(std::fabs(pct), 1, locale);
  const bool zero = body == "0";
  std::string sign;
  if (pct < 0 && !zero) sign = "-";
  else if (with_sign && !zero) sign = "+";
  if (russian(locale)) return sign + body + std::string(nbsp) + "%";
  return sign + body + "%";
}

std::string format_money(std::int64_t minor, std::size_t currency_index, std::string_view locale) {
  const currency& cur = currency_at(currency_index);
  std::uint64_t scale = 1;
  for (int d = 0; d < cur.minor_digits; ++d) scale *= 10;
  const bool negative = minor < 0;
  const std::uint64_t magnitude = negative ? static_cast<std::uint64_t>(-(minor + 1)) + 1 : static_cast<std::uint64_t>(minor);
  const std::uint64_t whole = magnitude / scale;
  const std::uint64_t frac = magnitude % scale;
  const bool ru = russian(locale);
  std::string amount = group(whole, ru ? nbsp : ",");
  // Kopecks and cents are shown only when there are some.
  if (frac != 0) amount += (ru ? "," : ".") + fmt::format("{:0{}}", frac, cur.minor_digits);
  if (ru) return minus(negative) + amount + std::string(nbsp) + std::string(cur.symbol);
  return minus(negative) + std::string(cur.symbol) + amount;
}

std::string format_date(day_number d, std::string_view locale) {
  const civil_date c = to_civil(d);
  if (russian(locale)) return fmt::format("{} {} {}", c.day, months_ru[c.month - 1], c.year);
  return fmt::format("{} {}, {}", months_en[c.month - 1], c.day, c.year);
}

std::string format_value(const value& v, const ir::value_ref& how, std::string_view locale, const format_context& ctx) {
  if (v.state != ir::present) return "—";  // unknown or absent: a dash in every locale
  switch (how.how) {
    case ir::format::text: return ctx.strings.at(static_cast<std::uint32_t>(v.i));
    case ir::format::integer: return format_integer(v.i, locale);
    case ir::format::number: return format_number(v.f, locale);
    case ir::format::percent: return format_percent(v.f, false, locale);
    case ir::format::signed_percent: return format_percent(v.f, true, locale);
    case ir::format::money: return format_money(v.i, how.ref, locale);
    case ir::format::date: return format_date(static_cast<day_number>(v.i), locale);
    case ir::format::yes_no: return v.i != 0 ? (russian(locale) ? "да" : "yes") : (russian(locale) ? "нет" : "no");
    case ir::format::variant: return ctx.checked.schema.enums[how.ref].variants[static_cast<std::size_t>(v.i)];
    case ir::format::days:
      return format_integer(v.i, locale) + (russian(locale) ? std::string(nbsp) + "дн." : " days");
  }
  return {};
}

}  // namespace nudge::runtime
