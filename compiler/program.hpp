// The checked rule set: declarations resolved into tables, and per-expression side tables
// (type, symbol, lookback) keyed by expr_id. Lowering and the runtime read only this.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/types.hpp"
#include "grammar/ast.hpp"
#include "support/source.hpp"

namespace nudge::compiler {

// Where a declaration's syntax lives: module index and index within that module's list.
struct decl_ref {
  std::uint32_t module = 0;
  std::uint32_t index = 0;
};

struct schema_info {
  bool present = false;
  span where;
  std::int64_t history_days = 0;
  span history_where;
  std::vector<field_info> fields;
  std::vector<span> field_where;
  std::vector<stream_info> streams;
  std::vector<span> stream_where;
  std::vector<enum_info> enums;

  std::optional<std::size_t> field(std::string_view name) const;
  std::optional<std::size_t> stream(std::string_view name) const;
  type_names names() const { return {&enums, &streams}; }
};

struct signal_info {
  decl_ref ref;
  std::string name;
  std::vector<type> fact_types;         // parallel to the signal's lets
  std::vector<std::size_t> depends_on;  // signals its expressions refer to
  std::int64_t lookback_days = 0;       // how far back in history its condition reads
  bool used = false;
};

enum class channel : std::uint8_t { email, in_app, csm_task, call };
inline constexpr std::string_view channel_names[] = {"email", "in_app", "csm_task", "call"};
// The channel a name spells, if any.
inline std::optional<channel> channel_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(channel_names); ++i) {
    if (channel_names[i] == name) return static_cast<channel>(i);
  }
  return std::nullopt;
}

struct step_info {
  std::string name;
  channel chan = channel::email;
  std::int64_t priority = 50;
  std::string offer_id;
};

struct play_info {
  decl_ref ref;
  std::string name;
  std::optional<std::size_t> signal;
  channel chan = channel::email;
  std::int64_t priority = 50;  // higher wins arbitration
  std::string offer_id;        // defaults to the play's name
  std::vector<step_info> steps;
};

struct policy_info {
  bool present = false;
  decl_ref ref;
  // The locales every message must be written in; the first is the default for untagged
  // texts. Without a policy (checking some files of a rule set alone) only `en` is assumed
  // for untagged texts and translations are not required.
  std::vector<std::string> locales{"en"};
  bool locales_declared = false;
  std::string timezone = "UTC";
};

// What a name in an expression refers to.
struct symbol {
  enum class of : std::uint8_t { none, field, stream, event_field, fact, signal, variant, builtin };
  of what = of::none;
  std::uint32_t a = 0;  // field, stream, signal or enum index
  std::uint32_t b = 0;  // event field, fact or variant index
};

struct module_tables {
  std::vector<type> types;
  std::vector<symbol> symbols;
  std::vector<std::int64_t> lookback;  // days of history the expression reads before today
};

struct program {
  schema_info schema;
  std::vector<signal_info> signals;
  std::vector<play_info> plays;
  policy_info policy;
  std::vector<module_tables> tables;  // parallel to the rule set's modules

  std::optional<std::size_t> signal(std::string_view name) const;
  std::optional<std::size_t> play(std::string_view name) const;
};

}  // namespace nudge::compiler
