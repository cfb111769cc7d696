// `nudge gen`: a synthetic, realistic data set for the schema of rules-examples/ (demos,
// tests, benchmarks): tiers and revenue bands, growing and declining cohorts, weekly
// seasonality in usage, ticket bursts on one topic, renewals spread over the year, monthly
// payments, noisy company names and a few broken rows. The same seed gives the same files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "runtime/time.hpp"

namespace nudge::runtime {

struct synthetic_options {
  std::uint64_t accounts = 1000;
  std::uint32_t days = 90;
  std::uint64_t seed = 1;
  day_number last_day = 0;  // the newest snapshot's date
  bool broken_rows = true;  // a few rows a loader must quarantine
};

struct synthetic_stats {
  std::uint64_t snapshot_rows = 0;
  std::uint64_t tickets = 0;
  std::uint64_t transactions = 0;
  std::uint64_t broken_rows = 0;
};

// Writes DIR/accounts.csv, DIR/tickets.csv and DIR/transactions.csv.
synthetic_stats generate(const std::filesystem::path& dir, const synthetic_options& o);

}  // namespace nudge::runtime
