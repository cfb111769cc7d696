// The lowered form of a checked rule set, which the runtime executes: straight-line
// register code over a batch of accounts (or, for `where` predicates, a batch of events).
// Every name is resolved to a field, slot or register; every window to day offsets; every
// instruction keeps the span of the rule text it came from, for `nudge explain`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "support/source.hpp"

namespace nudge::ir {

// How a register stores its values. i64 holds int, money (minor units), date (days since
// 1970-01-01), duration (days), enum (variant index), bool (0/1) and text (string id);
// f64 holds number and percent.
enum class rep : std::uint8_t { i64, f64 };

// Each value also has a state: present, absent (an optional field without a value), or
// unknown (the history does not reach far enough).
enum state : std::uint8_t { present = 0, absent = 1, unknown = 2 };

enum class op : std::uint8_t {
  const_i,          // dst = i
  const_f,          // dst = f
  const_text,       // dst = id of text constant `i` (module::texts)
  load_field,       // dst = snapshot field `a` at day offset `i`
  window_field,     // dst = aggregate `b` (agg) of field `a` over days [i, i + window)
  load_event,       // (event program) dst = field `a` of the current event
  outer,            // (event program) dst = main-program register `a`, per event's account
  today,            // dst = as-of day - i
  to_f,             // dst = (double) a
  neg_i, neg_f, abs_i, abs_f,
  add_i, sub_i, mul_i, add_f, sub_f, mul_f, div_f,
  money_mul,        // dst = round(a (i64) * b (f64))
  money_div,        // dst = round(a (i64) / b (f64))
  eq_i, ne_i, lt_i, le_i, gt_i, ge_i,
  eq_f, ne_f, lt_f, le_f, gt_f, ge_f,
  in_i, in_f,       // a in constant set `b` (int_sets / float_sets)
  in_text,          // a in constant set `b` of text constants (int_sets of module::texts indexes)
  logical_and, logical_or, logical_not,
  coalesce,         // dst = a if present else b
  present,          // dst = a is present
  days_until,       // dst = a - (as-of day - i)
  days_since,       // dst = (as-of day - i) - a
  share,            // dst = min(max(a / b, 0), 1), f64
  pct_change,       // dst = (a - b) / b, f64; unknown when b == 0
  ratio,            // dst = a / b as f64 for two i64 (money / money, int / int)
  window_regs,      // dst = aggregate `b` of the present values of the registers listed in
                    //       int_sets[`sub`] (a window over a computed snapshot value)
  event_agg,        // dst = aggregate `b` over events of stream `a` in days [i, i + window),
                    //       filtered by event program `sub` (or all when sub == none),
                    //       of event field `c` (for sum/avg/min/max/most_frequent)
};

enum class agg : std::uint8_t { avg, sum, min, max, count, most_frequent };

inline constexpr std::uint32_t none = 0xFFFFFFFF;

struct instr {
  op code;
  rep out = rep::i64;
  rep in = rep::i64;        // operand representation, where an op works on either
  bool text = false;        // operand values are text ids (order them by their strings)
  std::uint32_t dst = 0;
  std::uint32_t a = none;
  std::uint32_t b = none;
  std::uint32_t c = none;
  std::uint32_t sub = none;  // event program
  std::int64_t i = 0;        // constant, day offset
  std::int64_t window = 0;   // days
  double f = 0;
  span where;
};

struct program {
  std::vector<instr> code;
  std::vector<rep> registers;  // representation of each register
  std::int32_t stream = -1;    // for event programs: the stream whose events it reads
};

// Which day offsets of a snapshot field the rules read.
struct field_need {
  std::uint32_t field = 0;
  std::vector<std::int32_t> offsets;  // sorted
};

struct stream_need {
  std::uint32_t stream = 0;
  std::int64_t max_back = -1;           // oldest day offset read; -1 when unused
  std::vector<std::uint32_t> fields;    // event fields read
};

// How a value is printed in a message.
enum class format : std::uint8_t { text, integer, number, percent, signed_percent, money, date, yes_no, variant, days };

struct value_ref {
  std::uint32_t reg = none;
  format how = format::text;
  std::uint32_t ref = 0;  // currency index for money, enum index for variant
};

// One translation of one message part: literal pieces around the placeholders' values.
struct text_code {
  std::string locale;
  std::vector<std::string> pieces;  // pieces.size() == values.size() + 1
  std::vector<value_ref> values;
};

struct part_code {
  std::vector<text_code> texts;  // one per locale
};

struct message_code {
  std::uint8_t channel = 0;     // compiler::channel
  std::int64_t priority = 50;
  std::string offer_id;
  part_code why_now, offer, next_step;
  span where;                   // the play or step, for "which rule sent this"
};

struct signal_code {
  std::string name;
  std::vector<std::string> titles;   // per locale of the rule set, in its order
  std::vector<std::string> fact_names;
  std::vector<value_ref> facts;      // each `let`, at offset 0
  std::uint32_t when = none;
  span where;
  span when_where;
};

struct step_code {
  std::string name;
  std::uint32_t when = none;
  message_code message;
};

struct play_code {
  std::string name;
  std::uint32_t signal = 0;
  // `if_capped`: when a cap blocks the play, defer it to later nights (for up to
  // defer_days since it was first blocked; 0: while the signal fires) or suppress it.
  bool defer = false;
  std::int64_t defer_days = 0;
  std::vector<std::uint32_t> audience;  // all must hold
  message_code message;                 // when the play has no steps
  std::vector<step_code> steps;         // the first step whose condition holds is sent
};

// ---- the contact policy ---------------------------------------------------------------------

// The clock of a cap or capacity: a rolling number of nights ending tonight, or the
// calendar day, ISO week (Monday to Sunday) or month that holds tonight.
enum class clock : std::uint8_t { rolling, day, week, month };

struct period_code {
  clock kind = clock::rolling;
  std::int64_t days = 1;  // rolling only
};

enum class cap_kind : std::uint8_t {
  touches,       // at most `count` touches per account (all channels)
  per_channel,   // at most `count` touches per account on each channel
  on_channel,    // at most `count` touches per account on `channel`
  channels,      // at most `count` distinct channels per account
  same_offer,    // an offer id not again within the window
};

struct cap_code {
  std::string name;  // `as NAME`, or a generated one such as `cap_2_per_account_per_30d`
  cap_kind kind = cap_kind::touches;
  std::int64_t count = 1;
  std::uint8_t channel = 0;  // on_channel only
  period_code window;
  span where;
};

struct quiet_code {
  std::string name;                     // `quiet_before_FIELD`
  std::int64_t days = 0;                // quiet while 0 <= days until the date <= days
  std::uint32_t date = none;            // register: the date field tonight
  std::uint32_t when = none;            // register; none: every account
  std::vector<std::uint32_t> exempt;    // play indexes
  span where;
};

struct approval_code {
  std::uint32_t when = none;     // register; none: every action
  std::int64_t expires_days = 7;
  span where;
};

struct capacity_code {
  std::int64_t count = 0;
  period_code window;
  span where;
};

struct holdout_code {
  double share = 0;
  std::string salt;
  std::uint32_t band = none;  // register of the stratifying field, if any
  ir::rep band_rep = ir::rep::i64;
  span where;
};

struct policy_code {
  bool present = false;
  std::string timezone = "UTC";
  std::vector<cap_code> caps;
  std::vector<quiet_code> quiets;
  std::vector<approval_code> approvals;     // an action is held when any condition holds
  std::vector<capacity_code> capacities;
  std::vector<holdout_code> holdout;        // at most one
  std::vector<std::string> pilot;           // account ids, as written
  std::uint32_t csm = none;                 // register of the schema's `csm` field, if any
};

struct module {
  program main;
  std::vector<program> events;        // `where` predicates
  std::vector<std::vector<std::int64_t>> int_sets;
  std::vector<std::vector<double>> float_sets;
  std::vector<std::string> texts;     // text constants; their ids are indexes here
  std::vector<signal_code> signals;   // parallel to program::signals
  std::vector<play_code> plays;       // parallel to program::plays
  std::vector<field_need> fields;
  std::vector<stream_need> streams;
  std::int64_t lookback = 0;          // days before the as-of date any rule reads
  std::vector<std::string> locales;   // the rule set's locales; the first is the default
  std::int32_t locale_field = -1;     // schema field `locale` (an enum of locales), if any
  std::uint32_t locale_reg = none;    // its register
  policy_code policy;
};

}  // namespace nudge::ir
