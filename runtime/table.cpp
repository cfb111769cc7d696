#include "runtime/table.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <thread>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/cells.hpp"

namespace nudge::runtime {
namespace {

// A read-only memory map of a whole file: the kernel pages it in as parsing goes, so a
// 14 GB export does not need 14 GB of memory. RAII: unmapped and closed on destruction.
class mapped_file {
 public:
  explicit mapped_file(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY);
    if (fd_ < 0) return;
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return;
    size_ = static_cast<std::size_t>(st.st_size);
    ok_ = true;
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) {
      ok_ = false;
      return;
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(p);
  }
  ~mapped_file() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;

  bool ok() const { return ok_; }
  std::string_view text() const { return data_ != nullptr ? std::string_view(data_, size_) : std::string_view(); }

 private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  bool ok_ = false;
};

// Splits CSV rows in place. Quoted cells with "" escapes are unescaped into `scratch`.
class csv_splitter {
 public:
  csv_splitter(std::string_view text, char delimiter, std::size_t pos = 0, std::uint64_t line = 1)
      : text_(text), delim_(delimiter), pos_(pos), line_(line) {}

  bool done() const { return pos_ >= text_.size(); }
  std::uint64_t line() const { return line_; }
  std::size_t position() const { return pos_; }

  // Returns false for a row with an unbalanced quote (then `raw` spans to the end of file).
  bool next(std::vector<std::string_view>& cells, std::deque<std::string>& scratch, std::string_view& raw) {
    cells.clear();
    const std::size_t start = pos_;
    // Fast path for the common row without quotes: find its end and its delimiters with
    // memchr, which scans many bytes per step.
    const char* base = text_.data();
    const char* row_begin = base + pos_;
    const char* text_end = base + text_.size();
    const char* eol = static_cast<const char*>(std::memchr(row_begin, '\n', static_cast<std::size_t>(text_end - row_begin)));
    const char* row_end = eol != nullptr ? eol : text_end;
    if (std::memchr(row_begin, '"', static_cast<std::size_t>(row_end - row_begin)) == nullptr) {
      const char* content_end = row_end > row_begin && row_end[-1] == '\r' ? row_end - 1 : row_end;
      // Cells are short: a plain loop beats a memchr call per cell.
      const char* cell = row_begin;
      for (const char* c = row_begin; c != content_end; ++c) {
        if (*c == delim_) {
          cells.emplace_back(cell, static_cast<std::size_t>(c - cell));
          cell = c + 1;
        }
      }
      cells.emplace_back(cell, static_cast<std::size_t>(content_end - cell));
      pos_ = eol != nullptr ? static_cast<std::size_t>(eol - base) + 1 : text_.size();
      if (eol != nullptr) ++line_;
      raw = std::string_view(row_begin, static_cast<std::size_t>(content_end - row_begin));
      return true;
    }
    bool ok = true;
    while (true) {
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        std::string value;
        bool closed = false;
        while (pos_ < text_.size()) {
          const char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              value += '"';
              ++pos_;
              continue;
            }
            closed = true;
            break;
          }
          if (c == '\n') ++line_;
          value += c;
        }
        if (!closed) ok = false;
        scratch.push_back(std::move(value));
        cells.emplace_back(scratch.back());
        // Anything between the closing quote and the delimiter is kept out of the value.
        while (pos_ < text_.size() && text_[pos_] != delim_ && text_[pos_] != '\n') ++pos_;
      } else {
        const std::size_t b = pos_;
        while (pos_ < text_.size() && text_[pos_] != delim_ && text_[pos_] != '\n') ++pos_;
        std::size_t e = pos_;
        if (e > b && text_[e - 1] == '\r') --e;
        cells.push_back(text_.substr(b, e - b));
      }
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      ++pos_;  // newline
      ++line_;
      break;
    }
    std::size_t end = pos_;
    while (end > start && (text_[end - 1] == '\n' || text_[end - 1] == '\r')) --end;
    raw = text_.substr(start, end - start);
    return ok;
  }

  // For a row without quotes: splits its first `n` cells into `cells`, counts all of its
  // cells into `total`, and returns true without consuming the row (skip() does). False for
  // a row with quotes, which only next() reads.
  bool peek_plain(std::size_t n, std::vector<std::string_view>& cells, std::size_t& total, std::string_view& raw) {
    cells.clear();
    const char* base = text_.data();
    const char* row_begin = base + pos_;
    const char* text_end = base + text_.size();
    const char* eol = static_cast<const char*>(std::memchr(row_begin, '\n', static_cast<std::size_t>(text_end - row_begin)));
    const char* row_end = eol != nullptr ? eol : text_end;
    if (std::memchr(row_begin, '"', static_cast<std::size_t>(row_end - row_begin)) != nullptr) return false;
    const char* content_end = row_end > row_begin && row_end[-1] == '\r' ? row_end - 1 : row_end;
    const char* cell = row_begin;
    const char* c = row_begin;
    for (; c != content_end && cells.size() < n; ++c) {
      if (*c == delim_) {
        cells.emplace_back(cell, static_cast<std::size_t>(c - cell));
        cell = c + 1;
      }
    }
    if (cells.size() < n) {
      cells.emplace_back(cell, static_cast<std::size_t>(content_end - cell));
      total = cells.size();
    } else {
      total = n + static_cast<std::size_t>(std::count(c, content_end, delim_)) + 1;  // a vectorised count
    }
    peek_next_ = eol != nullptr ? static_cast<std::size_t>(eol - base) + 1 : text_.size();
    peek_newline_ = eol != nullptr;
    raw = std::string_view(row_begin, static_cast<std::size_t>(content_end - row_begin));
    return true;
  }

  // Consumes the row peek_plain() returned true for.
  void skip() {
    pos_ = peek_next_;
    if (peek_newline_) ++line_;
  }

 private:
  std::size_t peek_next_ = 0;
  bool peek_newline_ = false;
  std::string_view text_;
  char delim_;
  std::size_t pos_ = 0;
  std::uint64_t line_ = 1;
};

char detect_delimiter(std::string_view header) {
  std::size_t commas = 0;
  std::size_t semicolons = 0;
  std::size_t tabs = 0;
  for (const char c : header) {
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (tabs > commas && tabs > semicolons) return '\t';
  return semicolons > commas ? ';' : ',';
}

bool blank_line(std::string_view raw) { return trim(raw).empty(); }

// The first row boundary at or after `target` that is outside quotes, for rows starting at
// `from`: the number of quotes between `from` and a newline must be even.
std::size_t row_boundary(std::string_view text, std::size_t from, std::size_t target) {
  if (target >= text.size()) return text.size();
  // A part's cut can land past the next part's target (a long row): count from there.
  target = std::max(target, from);
  std::size_t quotes = 0;
  for (const char* q = text.data() + from; (q = static_cast<const char*>(std::memchr(q, '"', static_cast<std::size_t>(text.data() + target - q)))) != nullptr; ++q) {
    ++quotes;
  }
  std::size_t pos = target;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return text.size();
    for (std::size_t k = pos; k < nl; ++k) quotes += text[k] == '"';
    if (quotes % 2 == 0) return nl + 1;
    pos = nl + 1;
  }
  return text.size();
}

std::uint64_t count_newlines(std::string_view text, std::size_t from, std::size_t to) {
  std::uint64_t n = 0;
  const char* end = text.data() + to;
  for (const char* p = text.data() + from; (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)))) != nullptr; ++p) {
    ++n;
  }
  return n;
}

struct csv_header {
  char delimiter = ',';
  std::size_t cells = 0;
  std::vector<std::size_t> index;
  std::vector<std::uint32_t> positions;
  std::size_t data_begin = 0;
  std::uint64_t data_line = 2;
};

csv_header read_header(std::string_view text, std::span<const std::string> columns, table_result& result) {
  csv_header h;
  const std::size_t eol = text.find('\n');
  h.delimiter = detect_delimiter(text.substr(0, eol));
  csv_splitter split(text, h.delimiter);
  std::vector<std::string_view> header;
  std::deque<std::string> scratch;
  std::string_view raw;
  split.next(header, scratch, raw);
  h.cells = header.size();
  h.index.assign(columns.size(), std::string::npos);
  h.positions.assign(columns.size(), 0);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (std::size_t k = 0; k < header.size(); ++k) {
      if (trim(header[k]) == columns[c]) {
        h.index[c] = k;
        h.positions[c] = static_cast<std::uint32_t>(k + 1);
      }
    }
    if (h.index[c] == std::string::npos) result.missing.push_back(columns[c]);
  }
  h.data_begin = split.position();
  h.data_line = split.line();
  return h;
}

// Splits the rows of text[begin, end), whose first line is `line`.
void read_rows(std::string_view text, std::size_t begin, std::size_t end, std::uint64_t line, const csv_header& h,
               const std::function<void(const row&)>& on_row,
               const std::function<void(const row_problem&)>& on_problem,
               const std::size_t probe_columns = 0,
               const std::function<bool(std::span<const std::string_view>)>& wanted = {}) {
  csv_splitter split(text.substr(0, end), h.delimiter, begin, line);
  std::vector<std::string_view> cells;
  std::vector<std::string_view> picked(h.index.size());
  std::deque<std::string> scratch;
  std::string_view raw;
  std::size_t probe_split = 0;  // cells to split to reach every probe column
  for (std::size_t c = 0; c < probe_columns; ++c) probe_split = std::max(probe_split, h.index[c] + 1);
  while (!split.done()) {
    scratch.clear();
    const std::uint64_t at = split.line();
    std::size_t total = 0;
    if (probe_columns > 0 && split.peek_plain(probe_split, cells, total, raw)) {
      if (blank_line(raw)) {
        split.skip();
        continue;
      }
      if (total != h.cells) {
        split.skip();
        on_problem({at, "the row has " + std::to_string(total) + " cells, the header " + std::to_string(h.cells), raw});
        continue;
      }
      for (std::size_t c = 0; c < probe_columns; ++c) picked[c] = cells[h.index[c]];
      if (!wanted(std::span<const std::string_view>(picked.data(), probe_columns))) {
        split.skip();
        for (std::size_t c = probe_columns; c < picked.size(); ++c) picked[c] = {};
        on_row({at, picked, raw, h.positions, true});
        continue;
      }
    }
    const bool ok = split.next(cells, scratch, raw);
    if (blank_line(raw)) continue;
    if (!ok) {
      on_problem({at, "a quoted cell is not closed", raw});
      continue;
    }
    if (cells.size() != h.cells) {
      on_problem({at, "the row has " + std::to_string(cells.size()) + " cells, the header " + std::to_string(h.cells),
                  raw});
      continue;
    }
    for (std::size_t c = 0; c < h.index.size(); ++c) picked[c] = cells[h.index[c]];
    on_row({at, picked, raw, h.positions});
  }
}

table_result read_csv(std::string_view text, std::span<const std::string> columns, unsigned slices,
                      std::size_t block_bytes, const std::function<void(unsigned, const row&)>& on_row,
                      const std::function<void(unsigned, const row_problem&)>& on_problem,
                      const std::function<void(unsigned)>& merge, const row_probe* probe) {
  table_result result;
  const csv_header h = read_header(text, columns, result);
  if (!result.missing.empty()) return result;
  slices = std::max(1u, slices);
  std::thread merger;  // merges the previous block's parts
  std::size_t block = 0;
  std::size_t pos = h.data_begin;
  std::uint64_t line = h.data_line;
  while (pos < text.size()) {
    const std::size_t block_end = row_boundary(text, pos, pos + std::max<std::size_t>(block_bytes, 1));
    std::vector<std::size_t> cuts{pos};
    std::vector<std::uint64_t> lines{line};
    for (unsigned k = 1; k < slices; ++k) {
      const std::size_t target = pos + (block_end - pos) * k / slices;
      const std::size_t cut = std::max(cuts.back(), std::min(block_end, row_boundary(text, cuts.back(), target)));
      lines.push_back(lines.back() + count_newlines(text, cuts.back(), cut));
      cuts.push_back(cut);
    }
    cuts.push_back(block_end);
    const unsigned first = (block % 2) * slices;  // this block's part numbers
    auto part = [&](unsigned k) {
      const unsigned id = first + k;
      read_rows(
          text, cuts[k], cuts[k + 1], lines[k], h, [&](const row& r) { on_row(id, r); },
          [&](const row_problem& p) { on_problem(id, p); }, probe != nullptr ? probe->columns : 0,
          [&](std::span<const std::string_view> cells) { return probe->wanted(id, cells); });
    };
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < slices; ++k) pool.emplace_back(part, k);
    part(0);
    for (std::thread& t : pool) t.join();
    // The previous block's merges must be done before this block's start; this block's then
    // run while the next block is parsed into the other parts.
    if (merger.joinable()) merger.join();
    auto merge_block = [&merge, first, slices] {
      for (unsigned k = 0; k < slices; ++k) merge(first + k);
    };
    if (slices == 1) merge_block();  // one thread means one thread
    else merger = std::thread(merge_block);
    line = lines.back() + count_newlines(text, cuts[slices - 1], block_end);
    pos = block_end;
    ++block;
  }
  if (merger.joinable()) merger.join();
  return result;
}

table_result read_jsonl(std::string_view text, std::span<const std::string> columns,
                        const std::function<void(const row&)>& on_row,
                        const std::function<void(const row_problem&)>& on_problem) {
  table_result result;
  std::vector<bool> seen(columns.size(), false);
  std::vector<std::string> values(columns.size());
  std::vector<std::string_view> picked(columns.size());
  const std::vector<std::uint32_t> positions(columns.size(), 0);
  std::uint64_t line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    const std::size_t eol = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (blank_line(raw)) continue;
    const nlohmann::json doc = nlohmann::json::parse(raw, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      on_problem({line, "the line is not a JSON object", raw});
      continue;
    }
    for (std::size_t c = 0; c < columns.size(); ++c) {
      values[c].clear();
      const auto it = doc.find(columns[c]);
      if (it != doc.end()) {
        seen[c] = true;
        if (it->is_string()) values[c] = it->get<std::string>();
        else if (!it->is_null()) values[c] = it->dump();
      }
      picked[c] = values[c];
    }
    on_row({line, picked, raw, positions});
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!seen[c] && line > 0) result.missing.push_back(columns[c]);
  }
  return result;
}

}  // namespace

table_result read_table(const std::filesystem::path& path, std::span<const std::string> columns,
                        const std::function<void(const row&)>& on_row,
                        const std::function<void(const row_problem&)>& on_problem) {
  return read_table_sliced(
      path, columns, 1, std::numeric_limits<std::size_t>::max() / 2, [&](unsigned, const row& r) { on_row(r); },
      [&](unsigned, const row_problem& p) { on_problem(p); }, [](unsigned) {});
}

table_result read_table_sliced(const std::filesystem::path& path, std::span<const std::string> columns,
                               unsigned slices, std::size_t block_bytes,
                               const std::function<void(unsigned, const row&)>& on_row,
                               const std::function<void(unsigned, const row_problem&)>& on_problem,
                               const std::function<void(unsigned)>& merge, const row_probe* probe) {
  table_result result;
  const mapped_file file(path);
  if (!file.ok()) {
    result.fatal = "cannot read the file";
    return result;
  }
  std::string_view view = file.text();
  if (view.starts_with("\xEF\xBB\xBF")) view.remove_prefix(3);
  // A binary file shows itself in its first block; scanning all of a large export would cost
  // a full extra pass.
  if (view.substr(0, 64 * 1024).find('\0') != std::string_view::npos) {
    result.fatal = "the file contains NUL bytes; it is not a text table";
    return result;
  }
  if (trim(view).empty()) {
    result.fatal = "the file is empty; it needs at least a header row";
    return result;
  }
  if (path.extension() == ".jsonl") {
    result = read_jsonl(
        view, columns, [&](const row& r) { on_row(0, r); }, [&](const row_problem& p) { on_problem(0, p); });
    merge(0);
    return result;
  }
  return read_csv(view, columns, slices, block_bytes, on_row, on_problem, merge, probe);
}

}  // namespace nudge::runtime
