// The syntax tree the parser produces: plain data with exact spans and comments kept, so the
// checker, a formatter and a language server can all work from it. Expressions live in one
// vector per module and are addressed by expr_id; later phases keep their results in side
// tables keyed by id rather than mutating the tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support/source.hpp"

namespace nudge::ast {

enum class expr_id : std::uint32_t {};
inline constexpr std::uint32_t index(expr_id id) { return static_cast<std::uint32_t>(id); }

struct identifier {
  std::string name;
  span where;
};

// ---- expressions ----------------------------------------------------------------------------

enum class unary_op : std::uint8_t { negate, logical_not };
enum class binary_op : std::uint8_t {
  logical_or,
  logical_and,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  add,
  sub,
  mul,
  div,
  coalesce,
};

struct int_lit {
  std::int64_t value = 0;
};
struct number_lit {
  double value = 0;
};
struct percent_lit {
  double value = 0;
};  // 15% is stored as 0.15
struct duration_lit {
  std::int64_t days = 0;
};
struct money_lit {
  std::string amount;  // the decimal digits as written, without separators: "240000", "12.50"
  identifier currency;
};
struct string_lit {
  std::string value;
};
struct bool_lit {
  bool value = false;
};
struct name_ref {
  identifier name;
};
struct member {
  expr_id object;
  identifier name;
};
struct call {
  identifier callee;
  std::vector<expr_id> args;
};
struct unary {
  unary_op op;
  expr_id operand;
};
struct binary {
  binary_op op;
  expr_id lhs;
  expr_id rhs;
  span op_where;
};
struct in_list {
  expr_id value;
  std::vector<expr_id> items;
  bool negated = false;
  span list_where;
};
struct between {
  expr_id value;
  expr_id low;
  expr_id high;
};
// `tickets where topic == "billing"`: events of a stream that satisfy a predicate.
struct where_filter {
  expr_id stream;
  expr_id predicate;
};
// Stands in for an expression the parser could not build; silences follow-on errors.
struct error_expr {};

using expr_kind = std::variant<int_lit, number_lit, percent_lit, duration_lit, money_lit, string_lit, bool_lit,
                               name_ref, member, call, unary, binary, in_list, between, where_filter, error_expr>;

struct expr {
  span where;
  expr_kind kind;
};

// ---- message texts --------------------------------------------------------------------------

// `{growth}` or `{signal.fact}` inside a message text.
struct placeholder {
  std::vector<identifier> path;
  span where;
};

// A string literal used as a message template. `pieces` holds the literal text around the
// placeholders: pieces.size() == placeholders.size() + 1.
struct message_text {
  span where;
  std::vector<std::string> pieces;
  std::vector<placeholder> placeholders;
};

// One translation of a message part: `ru "..."`; an untagged text is in the first locale.
struct localized_text {
  std::optional<identifier> locale;
  message_text text;
};

enum class part_kind : std::uint8_t { why_now, offer, next_step };

struct message_part {
  part_kind kind;
  span keyword;
  std::vector<localized_text> variants;
};

struct int_setting {
  std::int64_t value = 0;
  span where;
};

struct string_setting {
  std::string value;
  span where;
};

// ---- schema ---------------------------------------------------------------------------------

struct type_ref {
  span where;
  identifier name;                     // text, int, number, percent, bool, date, money, enum
  std::optional<identifier> currency;  // money(KZT)
  std::vector<identifier> variants;    // enum(smb, mid, enterprise)
  bool optional = false;               // a trailing `?`
};

struct field_decl {
  identifier name;
  type_ref type;
  span where;
  std::optional<string_setting> column;  // the data column, when its name differs
};

// `events tickets at opened { ... }`: a per-account stream of dated events.
struct stream_decl {
  identifier name;
  identifier time_field;
  std::vector<field_decl> fields;
  span where;
};

struct schema_decl {
  span where;
  span keyword;
  std::vector<int_setting> history_days;  // `history 400d`; more than one is an error
  std::vector<field_decl> fields;
  std::vector<stream_decl> streams;
};

// ---- signals --------------------------------------------------------------------------------

struct let_decl {
  identifier name;
  expr_id value;
  span where;
};

struct title_decl {
  std::optional<identifier> locale;
  std::string text;
  span where;
};

struct signal_decl {
  span where;
  identifier name;
  std::vector<title_decl> titles;
  std::vector<let_decl> lets;
  std::vector<expr_id> conditions;  // `when`; exactly one is required
  std::vector<span> condition_keywords;
};

// ---- plays ----------------------------------------------------------------------------------

enum class capped_action : std::uint8_t { suppress, defer };

struct if_capped_setting {
  capped_action action = capped_action::suppress;
  std::optional<int_setting> defer_days;
  span where;
};

// Settings shared by a play and its steps.
struct play_body {
  std::vector<identifier> channels;
  std::vector<int_setting> priorities;
  std::vector<string_setting> offer_ids;
  std::vector<message_part> parts;
};

struct step_decl {
  span where;
  identifier name;
  expr_id condition;
  play_body body;
};

struct play_decl {
  span where;
  identifier name;
  std::optional<identifier> signal;
  std::vector<expr_id> audiences;
  std::vector<span> audience_keywords;
  std::vector<if_capped_setting> if_capped;
  play_body body;
  std::vector<step_decl> steps;
};

// ---- policy ---------------------------------------------------------------------------------

// The window of a cap: a rolling number of days, or a calendar day/week/month.
struct period {
  span where;
  std::int64_t days = 0;  // rolling window length when calendar is empty
  std::string calendar;   // "day", "week" or "month"
};

enum class cap_scope : std::uint8_t { account, account_per_channel, account_on_channel };

struct cap_decl {
  span where;
  bool same_offer = false;         // `cap same offer per account per 90d`
  int_setting count;               // for count caps
  std::optional<identifier> unit;  // offer(s), message(s), touch(es), channel(s)
  cap_scope scope = cap_scope::account;
  std::optional<identifier> channel;  // `on email`
  period window;
  std::optional<identifier> name;  // `as weekly_limit`
};

struct quiet_decl {
  span where;
  int_setting days;
  identifier date_field;
  std::optional<expr_id> condition;
  std::vector<identifier> exempt;
};

struct capacity_decl {
  span where;
  int_setting count;
  period window;
};

struct approval_decl {
  span where;
  std::optional<expr_id> condition;
  std::optional<int_setting> expires_days;
};

struct holdout_decl {
  span where;
  double share = 0;
  span share_where;
  string_setting salt;
  std::optional<identifier> stratify_by;
};

struct pilot_decl {
  span where;
  std::vector<string_setting> accounts;
};

struct policy_decl {
  span where;
  span keyword;
  std::vector<identifier> locales;
  std::vector<span> locale_settings;
  std::vector<string_setting> timezones;
  std::vector<cap_decl> caps;
  std::vector<quiet_decl> quiets;
  std::vector<capacity_decl> capacities;
  std::vector<approval_decl> approvals;
  std::vector<holdout_decl> holdouts;
  std::vector<pilot_decl> pilots;
};

// ---- modules --------------------------------------------------------------------------------

struct use_decl {
  span where;
  string_setting path;
};

// A declaration the parser had to skip; its name silences "unknown name" errors elsewhere.
struct broken_decl {
  std::string keyword;
  std::string name;
  span where;
};

struct module {
  file_id file = 0;
  std::vector<expr> exprs;
  std::vector<use_decl> uses;
  std::vector<schema_decl> schemas;
  std::vector<signal_decl> signals;
  std::vector<play_decl> plays;
  std::vector<policy_decl> policies;
  std::vector<span> comments;
  std::vector<broken_decl> broken;
  bool skipped = false;  // the file is not UTF-8 text and was not parsed

  const expr& at(expr_id id) const { return exprs[index(id)]; }
};

}  // namespace nudge::ast
