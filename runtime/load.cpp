#include "runtime/load.hpp"

#include <algorithm>
#include <deque>
#include <numeric>
#include <unordered_map>

#include "runtime/cells.hpp"
#include "runtime/table.hpp"

namespace nudge::runtime {
namespace {

namespace fs = std::filesystem;

ir::rep rep_of(const compiler::type& t) {
  return t.k == compiler::kind::number || t.k == compiler::kind::percent ? ir::rep::f64 : ir::rep::i64;
}

std::string clip(std::string_view raw) {
  constexpr std::size_t limit = 300;
  return raw.size() <= limit ? std::string(raw) : std::string(raw.substr(0, limit)) + "...";
}

// DIR/NAME.csv or DIR/NAME.jsonl; an error when both or neither exist.
std::optional<fs::path> find_table(const fs::path& dir, const std::string& name, std::string& error) {
  const fs::path csv = dir / (name + ".csv");
  const fs::path jsonl = dir / (name + ".jsonl");
  const bool has_csv = fs::exists(csv);
  const bool has_jsonl = fs::exists(jsonl);
  if (has_csv && has_jsonl) {
    error = "both " + csv.string() + " and " + jsonl.string() + " exist; keep one";
    return std::nullopt;
  }
  if (!has_csv && !has_jsonl) {
    error = "missing " + csv.string() + " (or " + name + ".jsonl)";
    return std::nullopt;
  }
  return has_csv ? csv : jsonl;
}

class loader {
 public:
  loader(const fs::path& dir, const compiler::program& p, const ir::module& m, day_number as_of, load_options o)
      : dir_(dir), p_(p), m_(m), o_(o) {
    o_.threads = std::max(1u, o_.threads);
    r_.data.as_of = as_of;
  }

  load_result run() {
    if (!fs::is_directory(dir_)) {
      r_.fatal = "data folder " + dir_.string() + " does not exist";
      return std::move(r_);
    }
    prepare_fields();
    if (!load_snapshots()) return std::move(r_);
    keep_active_accounts();
    for (std::size_t s = 0; s < m_.streams.size(); ++s) {
      if (!load_stream(s)) return std::move(r_);
    }
    return std::move(r_);
  }

 private:
  void quarantine(const std::string& file, std::uint64_t line, std::uint32_t column, std::string reason,
                  std::string_view raw) {
    ++r_.stats.quarantined;
    r_.quarantine.push_back({file, line, column, std::move(reason), clip(raw)});
  }

  // One cell: its value, absent (empty cell of an optional field), or the reason the row is
  // unusable. Text is returned as a view, not interned: the string pool is not shared across
  // the threads that parse parts of a file, so callers intern when they store.
  struct cell_read {
    std::uint8_t state = ir::present;
    cell_value value;
    std::string_view text;  // for text fields
    std::string reason;     // not empty: quarantine the row
  };

  cell_read read_cell(std::string_view raw, const compiler::field_info& info) {
    cell_read c;
    const std::string_view cell = trim(raw);
    if (cell.empty()) {
      if (!info.t.optional) c.reason = "`" + info.column + "` is empty, and the field is required";
      c.state = ir::absent;
      return c;
    }
    if (info.t.k == compiler::kind::text) {
      c.text = cell;
      return c;
    }
    const std::string why = parse_cell(cell, info.t, p_.schema.enums, r_.data.strings, c.value);
    if (!why.empty()) c.reason = "`" + info.column + "`: " + why;
    return c;
  }

  // A table that cannot be read at all, or lacks a column the rules read, stops the run.
  bool table_usable(const std::string& file, const table_result& t) {
    if (t.fatal) {
      r_.fatal = file + ": " + *t.fatal;
      return false;
    }
    if (t.missing.empty()) return true;
    std::string list;
    for (const std::string& c : t.missing) list += (list.empty() ? "`" : ", `") + c + "`";
    r_.fatal = file + ": missing column" + (t.missing.size() > 1 ? "s " : " ") + list +
               "; the rules read it (map a differently named column with `from \"...\"` in the schema)";
    return false;
  }

  void prepare_fields() {
    for (const ir::field_need& need : m_.fields) {
      field_slots slots;
      slots.field = need.field;
      slots.rep = rep_of(p_.schema.fields[need.field].t);
      slots.offsets = need.offsets;
      slots.columns.resize(need.offsets.size());
      // Which column holds each day offset, or -1: looked up for every cell of every row.
      std::vector<int> at(static_cast<std::size_t>(m_.lookback + 1), -1);
      for (std::size_t k = 0; k < need.offsets.size(); ++k) at[static_cast<std::size_t>(need.offsets[k])] = static_cast<int>(k);
      slot_at_.push_back(std::move(at));
      r_.data.fields.push_back(std::move(slots));
    }
    offset_read_.assign(static_cast<std::size_t>(m_.lookback + 1), false);
    for (const auto& at : slot_at_) {
      for (std::size_t o = 0; o < at.size(); ++o) offset_read_[o] = offset_read_[o] || at[o] >= 0;
    }
  }

  std::uint32_t account(std::string_view raw_id) {
    raw_id = trim(raw_id);
    // Exports list accounts in the same order every day: the account after the previous
    // row's is the likely one, and a string compare is cheaper than a hash lookup.
    if (last_ + 1 < raw_of_.size() && raw_of_[last_ + 1] == raw_id) return ++last_;
    // Exports repeat an id exactly night after night: remember the raw text, so only its
    // first appearance pays for normalisation.
    if (const auto raw = raw_index_.find(raw_id); raw != raw_index_.end()) return last_ = raw->second;
    std::string key = account_key(raw_id);
    if (const auto it = index_.find(key); it != index_.end()) {
      remember_raw(raw_id, it->second);
      return last_ = it->second;
    }
    const auto a = static_cast<std::uint32_t>(ids_.size());
    ids_.emplace_back(trim(raw_id));
    keys_.push_back(key);
    index_.emplace(std::move(key), a);
    for (field_slots& f : r_.data.fields) {
      for (slot_column& c : f.columns) {
        if (f.rep == ir::rep::i64) c.i.push_back(0);
        else c.f.push_back(0);
        c.state.push_back(ir::unknown);
      }
    }
    seen_.resize(seen_.size() + words_, 0);
    remember_raw(raw_id, a);
    raw_of_.emplace_back(raw_text_.back());
    return last_ = a;
  }

  void remember_raw(std::string_view raw_id, std::uint32_t a) {
    raw_text_.emplace_back(raw_id);
    raw_index_.emplace(std::string_view(raw_text_.back()), a);
  }

  // What one part of a block of a file yields, parsed on its own thread and then merged in
  // file order (docs/architecture.md): the kept rows' cell values, the rows to quarantine
  // and the counts. The export's parts (`slice`) and the event files' (`event_part`) add
  // their rows.
  struct part_cells {
    std::vector<cell_value> values;        // per kept row, one per field it reads
    std::vector<std::uint8_t> states;
    std::vector<std::string_view> texts;   // per value: a text cell, or a null view
    std::deque<std::string> copies;        // quoted cells, whose views end with their row
    std::vector<quarantined_row> quarantine;
    std::uint64_t rows_read = 0;
    std::uint64_t outside_window = 0;
    std::string last_date_text;
    std::optional<day_number> last_date;

    // Dates repeat on every row of a day: each distinct text is parsed once.
    const std::optional<day_number>& date(std::string_view text) {
      if (text != last_date_text) {
        last_date_text.assign(text);
        last_date = parse_date(text);
      }
      return last_date;
    }
    // A view that outlives the row: cells inside the row's text point into the mapped file,
    // which stays until the block is merged; unquoted copies of quoted cells do not.
    std::string_view keep(std::string_view cell, std::string_view raw) {
      if (cell.data() >= raw.data() && cell.data() + cell.size() <= raw.data() + raw.size()) return cell;
      return copies.emplace_back(cell);
    }
    void add(const cell_read& c, std::string_view raw) {
      values.push_back(c.value);
      states.push_back(c.state);
      texts.push_back(c.text.data() != nullptr ? keep(c.text, raw) : std::string_view());
    }
    // Drops the values of a row that turned out unusable after its first `first` ones.
    void drop_from(std::size_t first) {
      values.resize(first);
      states.resize(first);
      texts.resize(first);
    }
    void clear_cells() {
      values.clear();
      states.clear();
      texts.clear();
      copies.clear();
      quarantine.clear();
      rows_read = outside_window = 0;
    }
  };

  struct slice : part_cells {
    struct parsed_row {
      std::uint64_t line;
      std::string_view id;
      std::string_view raw;  // the row, in case it must be quarantined later
      std::uint32_t id_column;
      day_number day;
      std::int32_t offset;
      std::size_t values;    // index of its first value; one per field read at `offset`
    };
    std::vector<parsed_row> rows;
    void clear() {
      rows.clear();
      clear_cells();
    }
  };

  // Phase one, on a part's thread: everything about a row that does not need the accounts
  // seen so far.
  void parse_snapshot_row(slice& sl, const std::string& file, const row& rw) {
    ++sl.rows_read;
    auto reject = [&](std::uint32_t column, std::string reason) {
      sl.quarantine.push_back({file, rw.line, column, std::move(reason), clip(rw.raw)});
    };
    const std::string_view id = trim(rw.cells[0]);
    if (id.empty()) return reject(rw.positions[0], "the account id is empty");
    const std::string_view date_text = trim(rw.cells[1]);
    const std::optional<day_number>& day = sl.date(date_text);
    if (!day) {
      return reject(rw.positions[1], "`" + std::string(date_text) + "` is not a date in the form YYYY-MM-DD");
    }
    const std::int64_t offset = static_cast<std::int64_t>(r_.data.as_of) - *day;
    if (offset < 0 || offset > m_.lookback) {
      ++sl.outside_window;
      return;
    }
    // Only the fields read at this day offset are kept: most rows are older days, where the
    // rules read one or two fields.
    const std::size_t first = sl.values.size();
    for (std::size_t f = 0; f < m_.fields.size(); ++f) {
      const field_slots& slots = r_.data.fields[f];
      if (slot_at_[f][static_cast<std::size_t>(offset)] < 0) continue;
      const cell_read c = read_cell(rw.cells[f + 2], p_.schema.fields[slots.field]);
      if (!c.reason.empty()) {
        sl.drop_from(first);
        return reject(rw.positions[f + 2], c.reason);
      }
      sl.add(c, rw.raw);
    }
    sl.rows.push_back({rw.line, sl.keep(id, rw.raw), rw.raw, rw.positions[0], *day,
                       static_cast<std::int32_t>(offset), first});
  }

  // Phase two, in file order: accounts, duplicates, and the columns.
  void merge_snapshot_slice(slice& sl, const std::string& file) {
    r_.stats.rows += sl.rows_read;
    r_.stats.outside_window += sl.outside_window;
    std::vector<quarantined_row> rejected = std::move(sl.quarantine);
    for (const slice::parsed_row& row : sl.rows) {
      const std::uint32_t a = account(row.id);
      std::uint64_t& word = seen_[a * words_ + static_cast<std::size_t>(row.offset / 64)];
      const std::uint64_t bit = 1ULL << (row.offset % 64);
      if ((word & bit) != 0) {
        rejected.push_back({file, row.line, row.id_column,
                            "a second row for account `" + ids_[a] + "` on " + iso_date(row.day) +
                                "; the first one is used",
                            clip(row.raw)});
        continue;
      }
      word |= bit;
      std::size_t v = row.values;
      for (std::size_t f = 0; f < m_.fields.size(); ++f) {
        field_slots& slots = r_.data.fields[f];
        const int s = slot_at_[f][static_cast<std::size_t>(row.offset)];
        if (s < 0) continue;
        slot_column& col = slots.columns[static_cast<std::size_t>(s)];
        col.state[a] = sl.states[v];
        if (sl.texts[v].data() != nullptr) {
          col.i[a] = r_.data.strings.intern(sl.texts[v]);
        } else if (slots.rep == ir::rep::i64) {
          col.i[a] = sl.values[v].i;
        } else {
          col.f[a] = sl.values[v].f;
        }
        ++v;
      }
    }
    std::stable_sort(rejected.begin(), rejected.end(),
                     [](const quarantined_row& x, const quarantined_row& y) { return x.line < y.line; });
    r_.stats.quarantined += rejected.size();
    for (quarantined_row& q : rejected) r_.quarantine.push_back(std::move(q));
    sl.clear();
  }

  bool load_snapshots() {
    std::string error;
    const auto path = find_table(dir_, "accounts", error);
    if (!path) {
      r_.fatal = error;
      return false;
    }
    const std::string file = path->string();
    std::vector<std::string> columns{"account_id", "date"};
    for (const ir::field_need& need : m_.fields) columns.push_back(p_.schema.fields[need.field].column);
    words_ = static_cast<std::size_t>(m_.lookback / 64 + 1);
    std::vector<slice> slices(2 * o_.threads);  // two sets: see read_table_sliced
    // Most rows are days whose fields no rule reads (or outside the window): only their id
    // and date are split; the id still counts for duplicates and for the account's history.
    runtime::row_probe probe;
    probe.columns = 2;
    probe.wanted = [&](unsigned k, std::span<const std::string_view> cells) {
      const std::optional<day_number>& day = slices[k].date(trim(cells[1]));
      if (!day) return true;  // the whole row goes to quarantine
      const std::int64_t offset = static_cast<std::int64_t>(r_.data.as_of) - *day;
      return offset >= 0 && offset <= m_.lookback && offset_read_[static_cast<std::size_t>(offset)];
    };
    const table_result t = read_table_sliced(
        *path, columns, o_.threads, o_.block_bytes,
        [&](unsigned k, const row& rw) { parse_snapshot_row(slices[k], file, rw); },
        [&](unsigned k, const row_problem& pr) {
          ++slices[k].rows_read;
          slices[k].quarantine.push_back({file, pr.line, 0, pr.reason, clip(pr.raw)});
        },
        [&](unsigned k) { merge_snapshot_slice(slices[k], file); }, &probe);
    return table_usable(file, t);
  }

  // Accounts evaluated tonight are those with a snapshot on the as-of date, sorted by key so
  // that output does not depend on the order of the input.
  void keep_active_accounts() {
    r_.stats.accounts_seen = ids_.size();
    std::vector<std::uint32_t> order;
    for (std::uint32_t a = 0; a < ids_.size(); ++a) {
      if ((seen_[a * words_] & 1ULL) != 0) order.push_back(a);
    }
    r_.stats.accounts_inactive = ids_.size() - order.size();
    std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) { return keys_[x] < keys_[y]; });
    r_.data.account_ids.reserve(order.size());
    r_.data.account_keys.reserve(order.size());
    for (const std::uint32_t a : order) {
      r_.data.account_ids.push_back(ids_[a]);
      r_.data.account_keys.push_back(keys_[a]);
    }
    for (field_slots& f : r_.data.fields) {
      for (slot_column& c : f.columns) {
        slot_column sorted;
        sorted.state.reserve(order.size());
        for (const std::uint32_t a : order) {
          sorted.state.push_back(c.state[a]);
          if (f.rep == ir::rep::i64) sorted.i.push_back(c.i[a]);
          else sorted.f.push_back(c.f[a]);
        }
        c = std::move(sorted);
      }
    }
    index_.clear();
    for (std::uint32_t k = 0; k < order.size(); ++k) {
      index_.emplace(keys_[order[k]], k);
      active_.emplace(order[k], k);  // loading index -> index among tonight's accounts
    }
  }

  bool load_stream(std::size_t s) {
    const ir::stream_need& need = m_.streams[s];
    const compiler::stream_info& info = p_.schema.streams[need.stream];
    std::string error;
    const auto path = find_table(dir_, info.name, error);
    if (!path) {
      r_.fatal = error + "; the rules read events `" + info.name + "`";
      return false;
    }
    const std::string file = path->string();
    std::vector<std::string> columns{"account_id"};
    for (const std::uint32_t f : need.fields) columns.push_back(info.fields[f].column);
    const std::size_t time_col = static_cast<std::size_t>(
        std::find(need.fields.begin(), need.fields.end(), info.time_field) - need.fields.begin()) + 1;
    struct pending {
      std::uint32_t account;
      day_number day;
      std::size_t values;  // index of its first value in `vals`
    };
    std::vector<pending> events;
    std::vector<cell_value> vals;
    std::vector<std::uint8_t> states;
    // Rows are parsed in parts on o_.threads threads (what they read is not written while
    // they run: the account maps are complete after the snapshots) and merged in file
    // order, where texts are interned, so the result equals a one-thread load.
    struct event_part : part_cells {
      std::vector<pending> events;
    };
    std::vector<event_part> parts(2 * o_.threads);  // two sets: see read_table_sliced
    const day_number as_of = r_.data.as_of;
    const std::size_t nneed = need.fields.size();
    auto parse = [&](unsigned k, const row& rw) {
      event_part& pt = parts[k];
      ++pt.rows_read;
      auto reject = [&](std::uint32_t column, std::string reason) {
        pt.quarantine.push_back({file, rw.line, column, std::move(reason), clip(rw.raw)});
      };
      const std::string_view id = trim(rw.cells[0]);
      const auto raw = raw_index_.find(id);
      const auto it = raw != raw_index_.end() ? active_.find(raw->second) : active_.end();
      std::uint32_t account = 0;
      if (it != active_.end()) {
        account = it->second;
      } else if (const auto known = index_.find(account_key(rw.cells[0])); known != index_.end()) {
        account = known->second;
      } else {
        // Events of accounts not evaluated tonight (no snapshot today) are simply not needed.
        if (id.empty()) reject(rw.positions[0], "the account id is empty");
        else ++pt.outside_window;
        return;
      }
      const std::string_view date_text = trim(rw.cells[time_col]);
      const std::optional<day_number>& day = pt.date(date_text);
      if (!day) {
        return reject(rw.positions[time_col], "`" + std::string(date_text) + "` is not a date in the form YYYY-MM-DD");
      }
      const std::int64_t offset = static_cast<std::int64_t>(as_of) - *day;
      if (offset < 0 || offset > need.max_back) {
        ++pt.outside_window;
        return;
      }
      const std::size_t first = pt.values.size();
      for (std::size_t f = 0; f < nneed; ++f) {
        const cell_read c = read_cell(rw.cells[f + 1], info.fields[need.fields[f]]);
        if (!c.reason.empty()) {
          pt.drop_from(first);
          return reject(rw.positions[f + 1], c.reason);
        }
        pt.add(c, rw.raw);
      }
      pt.events.push_back({account, *day, first});
    };
    auto merge = [&](unsigned k) {
      event_part& pt = parts[k];
      r_.stats.rows += pt.rows_read;
      r_.stats.outside_window += pt.outside_window;
      r_.stats.quarantined += pt.quarantine.size();
      for (quarantined_row& q : pt.quarantine) r_.quarantine.push_back(std::move(q));
      for (const pending& e : pt.events) {
        events.push_back({e.account, e.day, vals.size()});
        for (std::size_t f = 0; f < nneed; ++f) {
          cell_value v = pt.values[e.values + f];
          const std::string_view text = pt.texts[e.values + f];
          if (text.data() != nullptr) v.i = r_.data.strings.intern(text);
          vals.push_back(v);
          states.push_back(pt.states[e.values + f]);
        }
      }
      pt.events.clear();
      pt.clear_cells();
    };
    const table_result t = read_table_sliced(
        *path, columns, o_.threads, o_.block_bytes, parse,
        [&](unsigned k, const row_problem& pr) {
          ++parts[k].rows_read;
          parts[k].quarantine.push_back({file, pr.line, 0, pr.reason, clip(pr.raw)});
        },
        merge);
    if (!table_usable(file, t)) return false;
    // Group by account, oldest first; equal days keep file order.
    std::stable_sort(events.begin(), events.end(), [](const pending& x, const pending& y) {
      return x.account != y.account ? x.account < y.account : x.day < y.day;
    });
    event_table table;
    table.stream = need.stream;
    const std::size_t nfields = info.fields.size();
    table.i.resize(nfields);
    table.f.resize(nfields);
    table.state.resize(nfields);
    table.begin.assign(r_.data.accounts() + 1, 0);
    for (const pending& e : events) ++table.begin[e.account + 1];
    std::partial_sum(table.begin.begin(), table.begin.end(), table.begin.begin());
    for (const pending& e : events) {
      table.day.push_back(e.day);
      for (std::size_t f = 0; f < need.fields.size(); ++f) {
        const std::uint32_t field = need.fields[f];
        const cell_value& v = vals[e.values + f];
        if (rep_of(info.fields[field].t) == ir::rep::i64) table.i[field].push_back(v.i);
        else table.f[field].push_back(v.f);
        table.state[field].push_back(states[e.values + f]);
      }
    }
    r_.stats.events += events.size();
    r_.data.streams.push_back(std::move(table));
    return true;
  }

  const fs::path dir_;
  const compiler::program& p_;
  const ir::module& m_;
  load_options o_;
  load_result r_;
  std::vector<std::string> ids_;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, std::uint32_t> index_;
  std::vector<std::uint64_t> seen_;  // per account, a bit per day offset that has a row
  std::vector<std::vector<int>> slot_at_;  // per needed field: day offset -> column, or -1
  std::vector<bool> offset_read_;          // day offset -> some field is read there
  std::deque<std::string> raw_text_;
  std::unordered_map<std::string_view, std::uint32_t> raw_index_;  // raw id text -> loading index
  std::vector<std::string_view> raw_of_;  // loading index -> its first raw id text
  std::uint32_t last_ = 0;                // the previous row's account
  std::unordered_map<std::uint32_t, std::uint32_t> active_;         // loading index -> account tonight
  std::size_t words_ = 1;
};

}  // namespace

load_result load_data(const fs::path& dir, const compiler::program& checked, const ir::module& lowered,
                      day_number as_of, load_options options) {
  return loader(dir, checked, lowered, as_of, options).run();
}

}  // namespace nudge::runtime
