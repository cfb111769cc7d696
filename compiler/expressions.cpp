// Types of expressions: name resolution in scope, operator rules, built-in functions, optional
// values, and how far back in history each expression reads.
#include <algorithm>

#include "compiler/checker.hpp"
#include "support/currency.hpp"

namespace nudge::compiler {
namespace {

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

type with_flags(type t, const type& a, const type& b) {
  t.partial = a.partial || b.partial;
  return t;
}

bool is_numberish(kind k) { return k == kind::int_ || k == kind::number || k == kind::percent; }

}  // namespace

std::int64_t& checker::lookback(const scope& sc, ast::expr_id id) {
  return p_.tables[sc.module].lookback[ast::index(id)];
}

type checker::expr(ast::expr_id id, const scope& sc, const type* hint) {
  const ast::expr& e = node(sc.module, id);
  type t = std::visit(
      [&](const auto& k) -> type {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, ast::int_lit>) return type::of(kind::int_);
        if constexpr (std::is_same_v<K, ast::number_lit>) return type::of(kind::number);
        if constexpr (std::is_same_v<K, ast::percent_lit>) return type::of(kind::percent);
        if constexpr (std::is_same_v<K, ast::duration_lit>) return type::of(kind::duration);
        if constexpr (std::is_same_v<K, ast::string_lit>) return type::of(kind::text);
        if constexpr (std::is_same_v<K, ast::bool_lit>) return type::of(kind::bool_);
        if constexpr (std::is_same_v<K, ast::money_lit>) {
          const auto cur = currency_index(k.currency.name);
          if (!cur) {
            sink_.report(diag::E2005, k.currency.where, "unknown currency " + quoted(k.currency.name)).help =
                "use an ISO 4217 code such as KZT, USD or EUR";
            return type{};
          }
          return type::of(kind::money, static_cast<std::uint16_t>(*cur));
        }
        if constexpr (std::is_same_v<K, ast::name_ref>) return name(id, k, sc, hint);
        if constexpr (std::is_same_v<K, ast::member>) return member(id, k, sc);
        if constexpr (std::is_same_v<K, ast::unary>) return unary(id, k, sc);
        if constexpr (std::is_same_v<K, ast::binary>) return binary(id, k, sc);
        if constexpr (std::is_same_v<K, ast::in_list>) return in_list(id, k, sc);
        if constexpr (std::is_same_v<K, ast::between>) return between(id, k, sc);
        if constexpr (std::is_same_v<K, ast::call>) return call(id, k, sc);
        if constexpr (std::is_same_v<K, ast::where_filter>) {
          sink_.report(diag::E3009, e.where, "`where` filters events only inside a function such as `count`").help =
              "write `count(tickets where topic == \"billing\", 30d)`";
          return type{};
        }
        return type{};
      },
      e.kind);
  p_.tables[sc.module].types[ast::index(id)] = t;
  return t;
}

// An expression used as a single value, not a stream. It may still be optional (`T?`):
// arithmetic and functions carry the absence along, and decisions must handle it.
type checker::value_of(ast::expr_id id, const scope& sc, const type* hint) {
  const type t = expr(id, sc, hint);
  if (t.k == kind::stream || t.k == kind::column) {
    const span at = where(sc, id);
    const std::string text(rules_.sources.file(at.file).slice(at));
    sink_
        .report(diag::E3009, at,
                quoted(text) + (t.k == kind::stream ? " is an event stream" : " is a field of many events") +
                    ", not a single value")
        .help = t.k == kind::stream
                    ? "count its events in a window: `count(" + text + ", 30d)`"
                    : "aggregate it in a window: `avg(" + text + ", 30d)` or `most_frequent(" + text + ", 30d)`";
    return type{};
  }
  return t;
}

// A value that decides something (a comparison, a condition, a message): it must be there.
type checker::decided(ast::expr_id id, const scope& sc, const type* hint) {
  type t = value_of(id, sc, hint);
  if (t.optional) {
    const span at = where(sc, id);
    const std::string text(rules_.sources.file(at.file).slice(at));
    auto& d = sink_.report(diag::E3007, at,
                           quoted(text) + " is optional (" + type_name(t) + ") and may be absent in the data");
    d.help = "handle the absence: `present(" + text + ") and ...`, or give a default with `" + text + " ?? ...`";
    t.optional = false;
  }
  return t;
}

type checker::condition(ast::expr_id id, const scope& sc, std::string_view where_text) {
  const type t = decided(id, sc);
  if (!t.is_error() && t.k != kind::bool_) {
    sink_
        .report(diag::E3006, where(sc, id),
                std::string(where_text) + " must be a yes/no condition, but this is " + type_name(t))
        .help = "compare it with something, e.g. `... >= 15%`";
    return type{};
  }
  return t;
}

bool checker::is_bare_name(ast::expr_id id, const scope& sc) const {
  const auto* ref = std::get_if<ast::name_ref>(&node(sc.module, id).kind);
  if (ref == nullptr) return false;
  const std::string& n = ref->name.name;
  if (sc.stream) {
    for (const field_info& f : p_.schema.streams[*sc.stream].fields) {
      if (f.name == n) return false;
    }
  }
  if (sc.signal) {
    const signal_info& s = p_.signals[*sc.signal];
    const auto& lets = rules_.modules[s.ref.module].signals[s.ref.index].lets;
    for (std::size_t i = 0; i < sc.visible_facts; ++i) {
      if (lets[i].name.name == n) return false;
    }
  }
  return !p_.schema.field(n) && !p_.schema.stream(n) && !(sc.signals_visible && p_.signal(n));
}

// A bare name that refers to a signal: not hidden by an event field, a fact or a field.
bool checker::names_signal(ast::expr_id id, const scope& sc) const {
  const auto* ref = std::get_if<ast::name_ref>(&node(sc.module, id).kind);
  if (ref == nullptr || !p_.signal(ref->name.name)) return false;
  scope without_signals = sc;
  without_signals.signals_visible = false;
  return is_bare_name(id, without_signals);
}

type checker::name(ast::expr_id id, const ast::name_ref& n, const scope& sc, const type* hint) {
  symbol& sym = p_.tables[sc.module].symbols[ast::index(id)];
  const std::string& nm = n.name.name;
  const bool proven = std::find(sc.present.begin(), sc.present.end(), nm) != sc.present.end();
  auto narrowed = [&](type t) {
    if (proven) t.optional = false;
    return t;
  };
  // An enum variant, when the other side of a comparison is that enum.
  if (hint != nullptr && hint->k == kind::enum_ && is_bare_name(id, sc)) {
    const enum_info& e = p_.schema.enums[hint->ref];
    const auto it = std::find(e.variants.begin(), e.variants.end(), nm);
    if (it != e.variants.end()) {
      sym = {symbol::of::variant, hint->ref, static_cast<std::uint32_t>(it - e.variants.begin())};
      return type::of(kind::enum_, hint->ref);
    }
    auto& d = sink_.report(diag::E3003, n.name.where, "enum `" + e.name + "` has no variant " + quoted(nm));
    const std::string guess = closest(nm, e.variants);
    std::string all;
    for (const std::string& v : e.variants) all += (all.empty() ? "" : ", ") + v;
    d.help = guess.empty() ? "its variants are: " + all : "did you mean `" + guess + "`? its variants are: " + all;
    return type{};
  }
  if (sc.stream) {
    const stream_info& st = p_.schema.streams[*sc.stream];
    for (std::size_t i = 0; i < st.fields.size(); ++i) {
      if (st.fields[i].name == nm) {
        sym = {symbol::of::event_field, static_cast<std::uint32_t>(*sc.stream), static_cast<std::uint32_t>(i)};
        return narrowed(st.fields[i].t);
      }
    }
  }
  if (sc.signal) {
    const signal_info& s = p_.signals[*sc.signal];
    const auto& lets = rules_.modules[s.ref.module].signals[s.ref.index].lets;
    for (std::size_t i = 0; i < lets.size(); ++i) {
      if (lets[i].name.name != nm) continue;
      if (i >= sc.visible_facts) {
        auto& d = sink_.report(diag::E2010, n.name.where, "fact " + quoted(nm) + " is used before it is defined");
        d.notes.push_back({lets[i].name.where, "defined here"});
        d.help = "move this `let` below the one that defines " + quoted(nm);
        return type{};
      }
      sym = {symbol::of::fact, static_cast<std::uint32_t>(*sc.signal), static_cast<std::uint32_t>(i)};
      lookback(sc, id) = p_.tables[s.ref.module].lookback[ast::index(lets[i].value)];
      return narrowed(s.fact_types[i]);
    }
  }
  if (const auto f = p_.schema.field(nm)) {
    sym = {symbol::of::field, static_cast<std::uint32_t>(*f), 0};
    return narrowed(p_.schema.fields[*f].t);
  }
  if (const auto st = p_.schema.stream(nm)) {
    sym = {symbol::of::stream, static_cast<std::uint32_t>(*st), 0};
    return type::of(kind::stream, static_cast<std::uint16_t>(*st));
  }
  if (sc.signals_visible) {
    if (const auto s = p_.signal(nm)) {
      sym = {symbol::of::signal, static_cast<std::uint32_t>(*s), 0};
      lookback(sc, id) = p_.signals[*s].lookback_days;
      type t = type::of(kind::bool_);
      t.partial = true;
      return t;
    }
  }
  if (broken_names_.contains(nm)) return type{};
  // Unknown: suggest the closest name that is visible here.
  std::vector<std::string> candidates;
  if (sc.stream) {
    for (const field_info& f : p_.schema.streams[*sc.stream].fields) candidates.push_back(f.name);
  }
  if (sc.signal) {
    const signal_info& s = p_.signals[*sc.signal];
    const auto& lets = rules_.modules[s.ref.module].signals[s.ref.index].lets;
    for (std::size_t i = 0; i < sc.visible_facts; ++i) candidates.push_back(lets[i].name.name);
  }
  for (const field_info& f : p_.schema.fields) candidates.push_back(f.name);
  for (const stream_info& st : p_.schema.streams) candidates.push_back(st.name);
  if (sc.signals_visible) {
    for (const signal_info& s : p_.signals) candidates.push_back(s.name);
  }
  const std::string guess = closest(nm, candidates);
  auto& d = sink_.report(diag::E2001, n.name.where,
                         "unknown name " + quoted(nm) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
  if (guess.empty()) {
    d.help = "declare it as a schema field, or define it with `let " + nm + " = ...` in the signal";
  }
  return type{};
}

type checker::member(ast::expr_id id, const ast::member& m, const scope& sc) {
  const ast::expr& object = node(sc.module, m.object);
  // `signal.fact`
  if (const auto* ref = std::get_if<ast::name_ref>(&object.kind);
      ref && sc.signals_visible && names_signal(m.object, sc)) {
    if (const auto s = p_.signal(ref->name.name)) {
      p_.tables[sc.module].symbols[ast::index(m.object)] = {symbol::of::signal, static_cast<std::uint32_t>(*s), 0};
      const signal_info& info = p_.signals[*s];
      const auto& lets = rules_.modules[info.ref.module].signals[info.ref.index].lets;
      std::vector<std::string> names;
      for (std::size_t i = 0; i < lets.size(); ++i) {
        if (lets[i].name.name == m.name.name && i < info.fact_types.size()) {
          p_.tables[sc.module].symbols[ast::index(id)] = {symbol::of::fact, static_cast<std::uint32_t>(*s),
                                                          static_cast<std::uint32_t>(i)};
          lookback(sc, id) = info.lookback_days;
          type t = info.fact_types[i];
          t.partial = true;
          return t;
        }
        names.push_back(lets[i].name.name);
      }
      const std::string guess = closest(m.name.name, names);
      sink_.report(diag::E2006, m.name.where,
                   "signal `" + info.name + "` has no fact " + quoted(m.name.name) +
                       (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
      return type{};
    }
  }
  const type obj = expr(m.object, sc);
  if (obj.is_error()) return obj;
  if (obj.k == kind::stream) {
    const stream_info& st = p_.schema.streams[obj.ref];
    std::vector<std::string> names;
    for (std::size_t i = 0; i < st.fields.size(); ++i) {
      if (st.fields[i].name == m.name.name) {
        type t = type::of(kind::column, obj.ref);
        t.field = static_cast<std::uint16_t>(i);
        return t;
      }
      names.push_back(st.fields[i].name);
    }
    const std::string guess = closest(m.name.name, names);
    sink_.report(diag::E2006, m.name.where,
                 "events `" + st.name + "` have no field " + quoted(m.name.name) +
                     (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
    return type{};
  }
  sink_
      .report(diag::E2006, m.name.where, "`." + m.name.name + "`: a value of type " + type_name(obj) + " has no fields")
      .help = "fields belong to event streams (`tickets.topic`) and facts to signals (`check_growing.growth`)";
  return type{};
}

type checker::unary(ast::expr_id id, const ast::unary& u, const scope& sc) {
  const type t = u.op == ast::unary_op::logical_not ? decided(u.operand, sc) : value_of(u.operand, sc);
  lookback(sc, id) = lookback(sc, u.operand);
  if (t.is_error()) return t;
  if (u.op == ast::unary_op::logical_not) {
    if (t.k != kind::bool_) {
      sink_.report(diag::E3001, where(sc, u.operand), "`not` needs a condition, but this is " + type_name(t));
      return type{};
    }
    return t;
  }
  if (!is_numberish(t.k) && t.k != kind::money && t.k != kind::duration) {
    sink_.report(diag::E3001, where(sc, id), "cannot negate a value of type " + type_name(t));
    return type{};
  }
  return t;
}

// Names that `present(name)` proves present, found in a conjunction.
void checker::add_present(const ast::expr& e, std::uint32_t module, std::vector<std::string>& names) const {
  if (const auto* b = std::get_if<ast::binary>(&e.kind); b && b->op == ast::binary_op::logical_and) {
    add_present(node(module, b->lhs), module, names);
    add_present(node(module, b->rhs), module, names);
    return;
  }
  const auto* c = std::get_if<ast::call>(&e.kind);
  if (c == nullptr || c->callee.name != "present" || c->args.size() != 1) return;
  if (const auto* ref = std::get_if<ast::name_ref>(&node(module, c->args[0]).kind)) {
    names.push_back(ref->name.name);
  }
}

type checker::binary(ast::expr_id id, const ast::binary& b, const scope& sc) {
  using op = ast::binary_op;
  type result;
  if (b.op == op::logical_and || b.op == op::logical_or) {
    const type l = decided(b.lhs, sc);
    scope rhs_scope = sc;
    if (b.op == op::logical_and) {
      add_present(node(sc.module, b.lhs), sc.module, rhs_scope.present);
    } else if (const auto* u = std::get_if<ast::unary>(&node(sc.module, b.lhs).kind);
               u && u->op == ast::unary_op::logical_not) {
      // `not present(x) or use(x)`
      add_present(node(sc.module, u->operand), sc.module, rhs_scope.present);
    }
    const type r = decided(b.rhs, rhs_scope);
    lookback(sc, id) = std::max(lookback(sc, b.lhs), lookback(sc, b.rhs));
    const char* word = b.op == op::logical_and ? "`and`" : "`or`";
    for (const auto& [t, e] : {std::pair{l, b.lhs}, std::pair{r, b.rhs}}) {
      if (!t.is_error() && t.k != kind::bool_) {
        sink_.report(diag::E3001, where(sc, e), std::string(word) + " joins conditions, but this is " + type_name(t));
        return type{};
      }
    }
    if (l.is_error() || r.is_error()) return type{};
    return with_flags(type::of(kind::bool_), l, r);
  }
  if (b.op == op::coalesce) {
    type l = expr(b.lhs, sc);
    if (l.k == kind::stream || l.k == kind::column) l = value_of(b.lhs, sc);
    if (!l.is_error() && !l.optional && !l.partial) {
      const span at = where(sc, b.lhs);
      sink_.report(diag::W5005, at,
                   quoted(rules_.sources.file(at.file).slice(at)) + " is never absent, so `??` has no effect");
    }
    const type r = value_of(b.rhs, sc, &l);
    lookback(sc, id) = std::max(lookback(sc, b.lhs), lookback(sc, b.rhs));
    if (l.is_error() || r.is_error()) return type{};
    const type plain = l.value();
    if (!(plain.same_base(r.value()) || (is_numberish(plain.k) && is_numberish(r.k)))) {
      sink_.report(diag::E3001, where(sc, b.rhs),
                   "the default after `??` is " + type_name(r) + ", but the value is " + type_name(plain));
      return type{};
    }
    type t = plain.k == kind::int_ && r.k != kind::int_ ? r.value() : plain;
    t.partial = r.partial;
    t.optional = r.optional;
    return t;
  }
  // For `tier == enterprise`, the enum on one side tells what the bare name on the other means.
  // Comparisons decide, so their operands must be present; arithmetic carries absence along.
  const bool comparison = b.op >= op::eq && b.op <= op::ge;
  auto operand = [&](ast::expr_id e, const type* hint) {
    return comparison ? decided(e, sc, hint) : value_of(e, sc, hint);
  };
  type l;
  type r;
  if (is_bare_name(b.lhs, sc) && !is_bare_name(b.rhs, sc)) {
    r = operand(b.rhs, nullptr);
    l = operand(b.lhs, &r);
  } else {
    l = operand(b.lhs, nullptr);
    r = operand(b.rhs, &l);
  }
  lookback(sc, id) = std::max(lookback(sc, b.lhs), lookback(sc, b.rhs));
  if (l.is_error() || r.is_error()) return type{};
  switch (b.op) {
    case op::eq:
    case op::ne:
    case op::lt:
    case op::le:
    case op::gt:
    case op::ge:
      result = compare(b, l, r, sc);
      break;
    default:
      result = arithmetic(b, l, r, sc);
      break;
  }
  if (result.is_error()) return result;
  result = with_flags(result, l, r);
  result.optional = l.optional || r.optional;
  return result;
}

type checker::compare(const ast::binary& b, type l, type r, const scope& sc) {
  const bool ordered = b.op != ast::binary_op::eq && b.op != ast::binary_op::ne;
  const span at = span{where(sc, b.lhs).file, where(sc, b.lhs).begin, where(sc, b.rhs).end};
  if (l.k == kind::money && r.k == kind::money && l.ref != r.ref) {
    sink_.report(diag::E3002, at, "cannot compare " + type_name(l) + " with " + type_name(r)).help =
        "money of different currencies never mixes; convert one side in the data";
    return type{};
  }
  const bool comparable = (is_numberish(l.k) && is_numberish(r.k)) || l.same_base(r);
  if (!comparable) {
    auto& d = sink_.report(diag::E3001, at, "cannot compare " + type_name(l) + " with " + type_name(r));
    if (l.k == kind::money && is_numberish(r.k)) {
      d.help = "write the amount with its currency, e.g. `100000 " + std::string(currency_at(l.ref).code) + "`";
    } else if (l.k == kind::text || r.k == kind::text) {
      d.help = "text compares only with text: put the value in quotes";
    }
    return type{};
  }
  if (ordered && (l.k == kind::enum_ || l.k == kind::text || l.k == kind::bool_)) {
    sink_.report(diag::E3001, at, "values of type " + type_name(l) + " have no order; use `==`, `!=` or `in`");
    return type{};
  }
  return type::of(kind::bool_);
}

type checker::arithmetic(const ast::binary& b, type l, type r, const scope& sc) {
  using op = ast::binary_op;
  const span at = span{where(sc, b.lhs).file, where(sc, b.lhs).begin, where(sc, b.rhs).end};
  const std::string sym(rules_.sources.file(b.op_where.file).slice(b.op_where));
  auto fail = [&](std::string help) {
    auto& d = sink_.report(diag::E3001, at, "cannot apply `" + sym + "` to " + type_name(l) + " and " + type_name(r));
    d.help = std::move(help);
    return type{};
  };
  if (l.k == kind::money && r.k == kind::money && l.ref != r.ref) {
    sink_.report(diag::E3002, at, "cannot apply `" + sym + "` to " + type_name(l) + " and " + type_name(r)).help =
        "money of different currencies never mixes; convert one side in the data";
    return type{};
  }
  const bool add_sub = b.op == op::add || b.op == op::sub;
  // Dates: date - date = days; date ± duration = date.
  if (l.k == kind::date || r.k == kind::date) {
    if (b.op == op::sub && l.k == kind::date && r.k == kind::date) return type::of(kind::int_);
    if (add_sub && l.k == kind::date && r.k == kind::duration) return type::of(kind::date);
    if (b.op == op::add && l.k == kind::duration && r.k == kind::date) return type::of(kind::date);
    return fail(is_numberish(r.k) || is_numberish(l.k) ? "add a duration to a date: `renewal_date + 30d`"
                                                       : "dates combine with durations (`+ 30d`) or other dates (`-`)");
  }
  if (l.k == kind::duration || r.k == kind::duration) {
    if (add_sub && l.k == r.k) return l.value();
    if (b.op == op::mul &&
        ((l.k == kind::duration && r.k == kind::int_) || (l.k == kind::int_ && r.k == kind::duration))) {
      return type::of(kind::duration);
    }
    if (b.op == op::div && l.k == r.k) return type::of(kind::number);
    return fail("durations add to durations and dates, and multiply by whole numbers");
  }
  if (l.k == kind::money || r.k == kind::money) {
    const type money = l.k == kind::money ? l.value() : r.value();
    if (add_sub) {
      if (l.k == r.k) return money;
      return fail("write the amount with its currency, e.g. `5000 " + std::string(currency_at(money.ref).code) + "`");
    }
    if (b.op == op::mul) {
      if (l.k == r.k) return fail("money times money has no meaning; multiply by a number or a percent");
      if (is_numberish(l.k) || is_numberish(r.k)) return money;
      return fail("money multiplies by a number or a percent");
    }
    // division
    if (l.k == r.k) return type::of(kind::number);
    if (l.k == kind::money && is_numberish(r.k)) return money;
    return fail("divide money by a number, or by money of the same currency");
  }
  if (is_numberish(l.k) && is_numberish(r.k)) {
    if (b.op == op::div) return type::of(kind::number);
    if (l.k == r.k) return l.value();
    return type::of(kind::number);
  }
  return fail("arithmetic works on numbers, percents, money, dates and durations");
}

type checker::in_list(ast::expr_id id, const ast::in_list& in, const scope& sc) {
  const type v = decided(in.value, sc);
  std::int64_t lb = lookback(sc, in.value);
  bool ok = !v.is_error();
  for (const ast::expr_id item : in.items) {
    const type t = decided(item, sc, &v);
    lb = std::max(lb, lookback(sc, item));
    if (!ok || t.is_error()) continue;
    const bool comparable = (is_numberish(v.k) && is_numberish(t.k)) || v.same_base(t);
    if (!comparable) {
      auto& d = sink_.report(t.k == kind::money && v.k == kind::money ? diag::E3002 : diag::E3001, where(sc, item),
                             "this is " + type_name(t) + ", but the value checked with `in` is " + type_name(v));
      if (v.k == kind::text) d.help = "text values are written in quotes";
      ok = false;
    }
  }
  lookback(sc, id) = lb;
  if (!ok) return type{};
  type t = type::of(kind::bool_);
  t.partial = v.partial;
  return t;
}

type checker::between(ast::expr_id id, const ast::between& bt, const scope& sc) {
  const type v = decided(bt.value, sc);
  const type lo = decided(bt.low, sc);
  const type hi = decided(bt.high, sc);
  lookback(sc, id) = std::max({lookback(sc, bt.value), lookback(sc, bt.low), lookback(sc, bt.high)});
  if (v.is_error() || lo.is_error() || hi.is_error()) return type{};
  for (const auto& [bound, e] : {std::pair{lo, bt.low}, std::pair{hi, bt.high}}) {
    if (v.k == kind::money && bound.k == kind::money && v.ref != bound.ref) {
      sink_.report(diag::E3002, where(sc, e), "bound is " + type_name(bound) + ", but the value is " + type_name(v));
      return type{};
    }
    const bool comparable = (is_numberish(v.k) && is_numberish(bound.k)) || v.same_base(bound);
    if (!comparable || v.k == kind::text || v.k == kind::enum_ || v.k == kind::bool_) {
      sink_.report(diag::E3001, where(sc, e),
                   "cannot check whether " + type_name(v) + " is between values of type " + type_name(bound));
      return type{};
    }
  }
  type t = type::of(kind::bool_);
  t.partial = v.partial || lo.partial || hi.partial;
  return t;
}

}  // namespace nudge::compiler
