// Loading a data folder into a dataset: only the accounts' history the rules read, with
// every unusable row sent to quarantine with its file, line, column and reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir.hpp"
#include "compiler/program.hpp"
#include "runtime/dataset.hpp"

namespace nudge::runtime {

struct quarantined_row {
  std::string file;
  std::uint64_t line = 0;
  std::uint32_t column = 0;  // 1-based; 0 when the row as a whole is at fault
  std::string reason;
  std::string raw;
};

struct load_stats {
  std::uint64_t rows = 0;              // data rows read, all files
  std::uint64_t outside_window = 0;    // rows older than the rules read, or after the as-of date
  std::uint64_t quarantined = 0;
  std::uint64_t events = 0;            // events kept
  std::uint64_t accounts_seen = 0;     // distinct accounts with a snapshot in the window
  std::uint64_t accounts_inactive = 0; // of those, without a snapshot on the as-of date
};

struct load_result {
  dataset data;
  std::vector<quarantined_row> quarantine;
  load_stats stats;
  // A problem that stops the run before anything is produced (exit 2).
  std::optional<std::string> fatal;
};

struct load_options {
  unsigned threads = 1;                 // threads parsing the accounts file
  std::size_t block_bytes = 64u << 20;  // read in blocks of this size, to bound memory
};

// Reads DIR/accounts.csv (or .jsonl) and DIR/<stream>.csv (or .jsonl) for each event stream
// the rules read. docs/data.md describes the layout. The result does not depend on the
// options: they change only speed and memory.
load_result load_data(const std::filesystem::path& dir, const compiler::program& checked, const ir::module& lowered,
                      day_number as_of, load_options options = {});

}  // namespace nudge::runtime
