// Calendar arithmetic in one place: dates as day numbers (days since 1970-01-01), parsed
// and formatted with Boost.Date_Time, so month ends and leap days are right everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nudge::runtime {

using day_number = std::int32_t;

struct civil_date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// "2026-12-03"; a time part after the date ("2026-12-03T10:00:00Z", "2026-12-03 10:00") is
// accepted and ignored. Anything else, or an impossible date (2026-02-30), is nullopt.
std::optional<day_number> parse_date(std::string_view text);

std::string iso_date(day_number d);
civil_date to_civil(day_number d);
day_number from_civil(civil_date c);

// The Monday of d's ISO week (weeks run Monday to Sunday).
day_number iso_monday(day_number d);

// Today in UTC: the default as-of date of a run.
day_number today_utc();

}  // namespace nudge::runtime
