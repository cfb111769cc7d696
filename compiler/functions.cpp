// Built-in functions: time windows over the account's history, event aggregates, dates.
#include <algorithm>
#include <array>

#include "compiler/checker.hpp"

namespace nudge::compiler {
namespace {

struct builtin {
  std::string_view name;
  std::size_t arity;
  std::string_view signature;
};

constexpr std::array builtins{
    builtin{"ago", 2, "ago(value, 30d): the value 30 days ago"},
    builtin{"change", 2, "change(value, 30d): value now minus value 30 days ago"},
    builtin{"pct_change", 2, "pct_change(value, 60d): relative change over 60 days, as a percent"},
    builtin{"avg", 2, "avg(value, 7d): average over the last 7 days (or of events' field)"},
    builtin{"sum", 2, "sum(value, 30d): sum over the last 30 days (or of events' field)"},
    builtin{"min", 2, "min(value, 30d): smallest value over the last 30 days"},
    builtin{"max", 2, "max(value, 30d): largest value over the last 30 days"},
    builtin{"count", 2, "count(events, 30d): events in the last 30 days"},
    builtin{"most_frequent", 2, "most_frequent(events.field, 30d): the most common value"},
    builtin{"days_until", 1, "days_until(date): days from today to the date"},
    builtin{"days_since", 1, "days_since(date): days from the date to today"},
    builtin{"share", 2, "share(part, whole): part of the whole as a percent, at most 100%"},
    builtin{"present", 1, "present(value): the optional value is there"},
    builtin{"abs", 1, "abs(value): the value without its sign"},
    builtin{"today", 0, "today(): the night's as-of date"},
};

const builtin* find_builtin(std::string_view name) {
  for (const builtin& b : builtins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

bool numberish(kind k) { return k == kind::int_ || k == kind::number || k == kind::percent; }

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

}  // namespace

// The window argument of a time function: a positive duration literal, in days.
std::optional<std::int64_t> checker::window(ast::expr_id id, const scope& sc, std::string_view function) {
  const ast::expr& e = node(sc.module, id);
  std::optional<std::int64_t> days;
  if (const auto* d = std::get_if<ast::duration_lit>(&e.kind)) {
    days = d->days;
  } else if (const auto* u = std::get_if<ast::unary>(&e.kind); u && u->op == ast::unary_op::negate) {
    if (const auto* nd = std::get_if<ast::duration_lit>(&node(sc.module, u->operand).kind)) days = -nd->days;
  }
  if (!days) {
    const type t = expr(id, sc);
    const std::string text(rules_.sources.file(e.where.file).slice(e.where));
    if (t.is_error()) return std::nullopt;
    auto& d = sink_.report(diag::E3004, e.where,
                           "the window of `" + std::string(function) + "` must be a duration, but " + quoted(text) +
                               " is " + (t.k == kind::duration ? "computed" : type_name(t)));
    d.help = t.k == kind::int_ ? "write it with a unit: `" + text + "d` for days or `" + text + "w` for weeks"
                               : "write a duration literal such as `30d` or `8w`";
    return std::nullopt;
  }
  p_.tables[sc.module].types[ast::index(id)] = type::of(kind::duration);
  if (*days <= 0) {
    sink_.report(diag::E4008, e.where, "the window of `" + std::string(function) + "` must be at least one day");
    return std::nullopt;
  }
  return days;
}

void checker::check_history(const scope& sc, ast::expr_id id, std::int64_t days) {
  lookback(sc, id) = days;
  if (!p_.schema.present || p_.schema.history_days <= 0 || days <= p_.schema.history_days) return;
  auto& d = sink_.report(diag::E3008, where(sc, id),
                         "this reads " + std::to_string(days) + " days back, but the data keeps only " +
                             std::to_string(p_.schema.history_days) + " days of history");
  d.notes.push_back({p_.schema.history_where, "history is set here"});
  d.help = "shorten the window, or keep more history in the data and raise `history`";
}

// The first argument of an aggregate: a value, events, an event field, or either of the
// latter filtered by `where`, whose predicate sees the event's fields by name.
type checker::events_arg(ast::expr_id id, const scope& sc) {
  const auto* filter = std::get_if<ast::where_filter>(&node(sc.module, id).kind);
  if (filter == nullptr) return expr(id, sc);
  const type t = expr(filter->stream, sc);
  if (t.is_error()) {
    return t;
  }
  if (t.k != kind::stream && t.k != kind::column) {
    sink_.report(diag::E3009, where(sc, filter->stream), "`where` filters events, but this is " + type_name(t)).help =
        "filter an event stream: `tickets where topic == \"billing\"`";
    return type{};
  }
  scope inner = sc;
  inner.stream = t.ref;
  condition(filter->predicate, inner, "the `where` filter");
  lookback(sc, id) = std::max(lookback(sc, filter->stream), lookback(sc, filter->predicate));
  p_.tables[sc.module].types[ast::index(id)] = t;
  return t;
}

type checker::call(ast::expr_id id, const ast::call& c, const scope& sc) {
  const std::string& fn = c.callee.name;
  const builtin* b = find_builtin(fn);
  if (b == nullptr) {
    std::vector<std::string_view> names;
    for (const builtin& x : builtins) names.push_back(x.name);
    const std::string guess = closest(fn, names);
    auto& d = sink_.report(diag::E2007, c.callee.where,
                           "unknown function " + quoted(fn) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
    if (guess.empty()) d.help = "see the list of functions in docs/language.md#functions";
    for (const ast::expr_id a : c.args) expr(a, sc);
    return type{};
  }
  if (c.args.size() != b->arity) {
    sink_
        .report(diag::E3005, where(sc, id),
                quoted(fn) + " takes " + std::to_string(b->arity) + " argument" + (b->arity == 1 ? "" : "s") +
                    ", but " + std::to_string(c.args.size()) + (c.args.size() == 1 ? " is" : " are") + " given")
        .help = std::string(b->signature);
    for (const ast::expr_id a : c.args) expr(a, sc);
    return type{};
  }
  auto bad_arg = [&](ast::expr_id a, const type& t, std::string_view wanted) {
    sink_
        .report(diag::E3005, where(sc, a),
                quoted(fn) + " needs " + std::string(wanted) + ", but this is " + type_name(t))
        .help = std::string(b->signature);
    return type{};
  };
  auto lb = [&](ast::expr_id a) { return lookback(sc, a); };

  if (fn == "today") return type::of(kind::date);
  if (fn == "present") {
    const type t = expr(c.args[0], sc);
    lookback(sc, id) = lb(c.args[0]);
    if (t.k == kind::stream || t.k == kind::column) return bad_arg(c.args[0], t, "a single value");
    if (!t.is_error() && !t.optional && !t.partial) {
      const span at = where(sc, c.args[0]);
      sink_.report(
          diag::W5005, at,
          quoted(rules_.sources.file(at.file).slice(at)) + " is never absent, so `present(...)` is always true");
    }
    return type::of(kind::bool_);
  }
  if (fn == "days_until" || fn == "days_since") {
    const type t = value_of(c.args[0], sc);
    lookback(sc, id) = lb(c.args[0]);
    if (t.is_error()) return t;
    if (t.k != kind::date) return bad_arg(c.args[0], t, "a date");
    type r = type::of(kind::int_);
    r.partial = t.partial;
    r.optional = t.optional;
    return r;
  }
  if (fn == "abs") {
    const type t = value_of(c.args[0], sc);
    lookback(sc, id) = lb(c.args[0]);
    if (t.is_error()) return t;
    if (!numberish(t.k) && t.k != kind::money && t.k != kind::duration) return bad_arg(c.args[0], t, "a number");
    return t;
  }
  if (fn == "share") {
    const type part = value_of(c.args[0], sc);
    const type whole = value_of(c.args[1], sc);
    lookback(sc, id) = std::max(lb(c.args[0]), lb(c.args[1]));
    if (part.is_error() || whole.is_error()) return type{};
    if (part.k == kind::money && whole.k == kind::money && part.ref != whole.ref) {
      sink_.report(diag::E3002, where(sc, id), "cannot take a share of " + type_name(whole) + " in " + type_name(part));
      return type{};
    }
    const bool ok = (numberish(part.k) && numberish(whole.k)) || (part.k == kind::money && whole.k == kind::money);
    if (!ok)
      return bad_arg(numberish(part.k) || part.k == kind::money ? c.args[1] : c.args[0],
                     numberish(part.k) || part.k == kind::money ? whole : part, "two numbers or two amounts");
    type r = type::of(kind::percent);
    r.partial = part.partial || whole.partial;
    r.optional = part.optional || whole.optional;
    return r;
  }

  // Time functions: the second argument is a window.
  const auto days = window(c.args[1], sc, fn);
  if (fn == "count") {
    const type t = events_arg(c.args[0], sc);
    if (t.is_error()) return t;
    if (t.k != kind::stream) {
      return bad_arg(c.args[0], t, "events, such as `tickets` or `tickets where topic == \"billing\"`");
    }
    // Outer values in a `where` filter are read once, at the night's date, not per day.
    if (days) check_history(sc, id, std::max(*days - 1, lb(c.args[0])));
    return type::of(kind::int_);
  }
  if (fn == "most_frequent") {
    const type t = events_arg(c.args[0], sc);
    if (t.is_error()) return t;
    if (t.k != kind::column) return bad_arg(c.args[0], t, "an event field, such as `tickets.topic`");
    const type elem = p_.schema.streams[t.ref].fields[t.field].t;
    if (elem.k != kind::text && elem.k != kind::enum_) return bad_arg(c.args[0], t, "a text or enum event field");
    if (days) check_history(sc, id, std::max(*days - 1, lb(c.args[0])));
    type r = elem.value();
    r.partial = true;  // no events in the window: unknown
    return r;
  }
  if (fn == "avg" || fn == "sum" || fn == "min" || fn == "max") {
    type t = events_arg(c.args[0], sc);
    if (t.is_error()) return t;
    const bool events = t.k == kind::column;
    type elem = events ? p_.schema.streams[t.ref].fields[t.field].t : t;
    if (t.k == kind::stream) {
      return bad_arg(c.args[0], t,
                     "values: name an event field such as `" + p_.schema.streams[t.ref].name + "." +
                         (p_.schema.streams[t.ref].fields.empty() ? std::string("field")
                                                                  : p_.schema.streams[t.ref].fields.back().name) +
                         "`");
    }
    if (!events) elem = value_of(c.args[0], sc);
    // Absent values are skipped by window aggregates; a window with no values is unknown.
    elem.optional = false;
    if (!numberish(elem.k) && elem.k != kind::money) return bad_arg(c.args[0], elem, "numbers or money");
    // A snapshot value is read on every day of the window; event values once, by their date.
    if (days) check_history(sc, id, events ? std::max(*days - 1, lb(c.args[0])) : *days - 1 + lb(c.args[0]));
    type r = elem.value();
    if (fn == "avg" && r.k == kind::int_) r = type::of(kind::number);
    // Snapshot windows need the account's history to cover them; event averages, min and max
    // need at least one event. Event sums are 0 when nothing happened.
    r.partial = !(events && fn == "sum");
    return r;
  }
  // ago, change, pct_change
  const type t = value_of(c.args[0], sc);
  if (t.is_error()) return t;
  if (fn != "ago" && !numberish(t.k) && t.k != kind::money) return bad_arg(c.args[0], t, "a number or money");
  if (days) check_history(sc, id, *days + lb(c.args[0]));
  type r = fn == "pct_change" ? type::of(kind::percent) : t.value();
  r.partial = true;
  r.optional = t.optional;
  return r;
}

}  // namespace nudge::compiler
