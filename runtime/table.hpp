// Reading a data file as rows of cells: CSV (comma, semicolon or tab separated, RFC 4180
// quoting, UTF-8 with or without a byte order mark) or JSON Lines (one object per line).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nudge::runtime {

struct row {
  std::uint64_t line = 0;              // 1-based line where the row starts
  std::span<const std::string_view> cells;  // parallel to the requested columns; empty when absent
  std::string_view raw;                // the row's text, for the quarantine report
  std::span<const std::uint32_t> positions;  // 1-based column of each cell in the file (CSV)
  bool partial = false;  // only the probe's cells are filled (see row_probe)
};

// Lets a reader skip most of a row it does not need. The first `columns` requested columns
// of a row are split first, and `wanted(part, cells)` says whether the rest is needed; when
// it is not, `on_row` gets the row with only those cells filled (the others empty) and
// `partial` set. A skipped row's cell count is still checked. CSV rows without quotes
// only; other rows are always split whole.
struct row_probe {
  std::size_t columns = 0;
  std::function<bool(unsigned, std::span<const std::string_view>)> wanted;
};

// A problem with a row as a whole (unbalanced quotes, not a JSON object).
struct row_problem {
  std::uint64_t line = 0;
  std::string reason;
  std::string_view raw;
};

struct table_result {
  std::optional<std::string> fatal;  // the file cannot be read as a table at all
  std::vector<std::string> missing;  // requested columns the file does not have
};

// Reads `path` and calls `on_row` for each data row with the cells of `columns` in that
// order, or `on_problem` for a row that cannot be split into cells. One thread, file order.
table_result read_table(const std::filesystem::path& path, std::span<const std::string> columns,
                        const std::function<void(const row&)>& on_row,
                        const std::function<void(const row_problem&)>& on_problem);

// The same, on several threads: a CSV file is read in blocks of about `block_bytes`, each
// cut at row boundaries into `slices` consecutive parts. Part k of a block goes to
// `on_row(k, row)` / `on_problem(k, problem)` on its own thread, in file order within the
// part; then `merge(k)` runs for each part of the block in order, on one more thread,
// while the next block is parsed (with one slice: on the calling thread, before it). So that a block's parts can be merged while the next
// block's are filled, parts are numbered 0 .. slices-1 in even blocks and slices ..
// 2*slices-1 in odd ones: the caller keeps 2*slices parts. Merges run one at a time, in
// file order, and the next block's merges start after them; the parsing callbacks must
// not read what merges write. Cells that are not plain text in the file (quoted) live only
// until the next row, so a part must copy what it keeps. JSON Lines is read as one part
// (number 0) per file.
table_result read_table_sliced(const std::filesystem::path& path, std::span<const std::string> columns,
                               unsigned slices, std::size_t block_bytes,
                               const std::function<void(unsigned, const row&)>& on_row,
                               const std::function<void(unsigned, const row_problem&)>& on_problem,
                               const std::function<void(unsigned)>& merge, const row_probe* probe = nullptr);

}  // namespace nudge::runtime
