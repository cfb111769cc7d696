// Types of the rule language and their display names in messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nudge::compiler {

enum class kind : std::uint8_t {
  error,  // a broken expression: silences follow-on errors
  text,
  int_,
  number,
  percent,  // a fraction: 15% is 0.15
  money,    // ref = currency index
  bool_,
  date,
  duration,  // whole days
  enum_,     // ref = enum index
  stream,    // per-account events; ref = stream index
  column,    // one field of a stream's events: ref = stream index, field = field index
};

struct type {
  kind k = kind::error;
  // `T?`: the data may lack the value; the checker insists it is handled (present(), ??).
  bool optional = false;
  // May be unknown at run time because the account's history is shorter than a window;
  // unknown propagates and a condition that is unknown does not fire.
  bool partial = false;
  std::uint16_t ref = 0;
  std::uint16_t field = 0;

  static type of(kind k, std::uint16_t ref = 0) { return type{k, false, false, ref, 0}; }
  bool is_error() const { return k == kind::error; }
  bool is_numeric() const { return k == kind::int_ || k == kind::number || k == kind::percent; }
  bool same_base(const type& o) const { return k == o.k && ref == o.ref && field == o.field; }
  type value() const { return type{k, false, false, ref, field}; }  // without optional/partial
};

struct enum_info {
  std::string name;  // the field that declared it
  std::vector<std::string> variants;
};

struct field_info {
  std::string name;
  type t;
  std::string column;  // the column in the data files; the field's name unless `from "..."`
};

struct stream_info {
  std::string name;
  std::vector<field_info> fields;
  std::size_t time_field = 0;
};

// The vocabulary needed to print a type: enum and stream names.
struct type_names {
  const std::vector<enum_info>* enums = nullptr;
  const std::vector<stream_info>* streams = nullptr;
};

std::string to_string(const type& t, const type_names& names);

}  // namespace nudge::compiler
