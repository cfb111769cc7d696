#include "runtime/time.hpp"

#include <boost/date_time/gregorian/gregorian.hpp>
#include <boost/date_time/posix_time/posix_time.hpp>
#include <charconv>

namespace nudge::runtime {
namespace {

namespace bg = boost::gregorian;

const bg::date epoch(1970, 1, 1);

bool digits(std::string_view s, int& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<day_number> parse_date(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (text.size() > 10 && text[10] != 'T' && text[10] != ' ') return std::nullopt;
  int y = 0;
  int m = 0;
  int d = 0;
  if (!digits(text.substr(0, 4), y) || !digits(text.substr(5, 2), m) || !digits(text.substr(8, 2), d)) {
    return std::nullopt;
  }
  if (y < 1400 || y > 9999) return std::nullopt;
  try {
    const bg::date date(static_cast<unsigned short>(y), static_cast<unsigned short>(m), static_cast<unsigned short>(d));
    return static_cast<day_number>((date - epoch).days());
  } catch (const std::out_of_range&) {
    return std::nullopt;  // bad month or day: Boost checks month lengths and leap years
  }
}

civil_date to_civil(day_number d) {
  const bg::date date = epoch + bg::date_duration(d);
  const auto ymd = date.year_month_day();
  return {static_cast<int>(ymd.year), static_cast<int>(ymd.month), static_cast<int>(ymd.day)};
}

day_number from_civil(civil_date c) {
  const bg::date date(static_cast<unsigned short>(c.year), static_cast<unsigned short>(c.month),
                      static_cast<unsigned short>(c.day));
  return static_cast<day_number>((date - epoch).days());
}

std::string iso_date(day_number d) {
  // Boost's calendar, formatted by hand: to_iso_extended_string goes through a stream and
  // showed up in profiles (every ledger row and outbox key has dates).
  const civil_date c = to_civil(d);
  if (c.year < 1000 || c.year > 9999) return bg::to_iso_extended_string(epoch + bg::date_duration(d));
  std::string out(10, '-');
  auto two = [&](std::size_t at, int v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, c.year / 100);
  two(2, c.year % 100);
  two(5, c.month);
  two(8, c.day);
  return out;
}

day_number today_utc() {
  const bg::date today = boost::posix_time::second_clock::universal_time().date();
  return static_cast<day_number>((today - epoch).days());
}

day_number iso_monday(day_number d) { return d - ((d % 7 + 7 + 3) % 7); }  // 1970-01-01 was a Thursday

}  // namespace nudge::runtime
