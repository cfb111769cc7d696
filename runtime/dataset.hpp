// The accounts' history in memory, shaped for batch evaluation: one column per snapshot
// field and day offset the rules read (nothing else is kept), and per event stream the
// events of each account, contiguous and sorted by day.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/ir.hpp"
#include "runtime/time.hpp"

namespace nudge::runtime {

// Text values are interned: equal texts have equal ids, so comparing them is an integer test.
class string_pool {
 public:
  std::uint32_t intern(std::string_view s);
  const std::string& at(std::uint32_t id) const { return strings_[id]; }
  std::size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // a deque keeps the views in index_ valid as it grows
  std::unordered_map<std::string_view, std::uint32_t> index_;
};

// One snapshot field at one day offset, for every account.
struct slot_column {
  std::vector<std::int64_t> i;  // for ir::rep::i64 fields
  std::vector<double> f;        // for ir::rep::f64 fields
  std::vector<std::uint8_t> state;
};

struct field_slots {
  std::uint32_t field = 0;
  ir::rep rep = ir::rep::i64;
  std::vector<std::int32_t> offsets;  // sorted, as in ir::field_need
  std::vector<slot_column> columns;   // parallel to offsets
};

struct event_table {
  std::uint32_t stream = 0;
  std::vector<std::uint32_t> begin;  // events of account a: [begin[a], begin[a + 1])
  std::vector<day_number> day;
  // Indexed by the stream's field; a field the rules do not read stays empty.
  std::vector<std::vector<std::int64_t>> i;
  std::vector<std::vector<double>> f;
  std::vector<std::vector<std::uint8_t>> state;
};

struct dataset {
  day_number as_of = 0;
  std::vector<std::string> account_ids;  // as first seen in the data, trimmed; sorted by key
  // Each account's key (runtime::account_key), parallel to account_ids and so sorted: the
  // policy and explain look accounts up by it. Whoever builds a dataset fills both.
  std::vector<std::string> account_keys;
  string_pool strings;
  std::vector<field_slots> fields;       // parallel to ir::module::fields
  std::vector<event_table> streams;      // parallel to ir::module::streams
  std::size_t accounts() const { return account_ids.size(); }
};

}  // namespace nudge::runtime
