#include "compiler/lower.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

#include "support/currency.hpp"

namespace nudge::compiler {
namespace {

ir::rep rep_of(const type& t) { return t.k == kind::number || t.k == kind::percent ? ir::rep::f64 : ir::rep::i64; }

// Where code is being emitted: the main program, or the predicate of an event aggregate.
struct context {
  std::int32_t program = -1;  // -1: main; else index into module::events
  std::int32_t stream = -1;
};

class lowerer {
 public:
  lowerer(const rule_set& rules, const program& p) : rules_(rules), p_(p) {}

  ir::module run() {
    const context main;
    out_.locales = p_.policy.locales;
    for (const signal_info& s : p_.signals) {
      const ast::signal_decl& decl = rules_.modules[s.ref.module].signals[s.ref.index];
      ir::signal_code code;
      code.name = s.name;
      code.where = decl.where;
      for (const std::string& loc : out_.locales) code.titles.push_back(title(decl, loc));
      for (std::size_t i = 0; i < decl.lets.size(); ++i) {
        const ast::let_decl& l = decl.lets[i];
        code.fact_names.push_back(l.name.name);
        const std::uint32_t reg = lower(s.ref.module, l.value, 0, main);
        code.facts.push_back(value_ref(reg, s.fact_types[i], signed_change(s.ref.module, l.value)));
      }
      if (!decl.conditions.empty()) {
        code.when = lower(s.ref.module, decl.conditions.front(), 0, main);
        code.when_where = rules_.modules[s.ref.module].at(decl.conditions.front()).where;
      }
      out_.signals.push_back(std::move(code));
    }
    if (const auto f = p_.schema.field("locale"); f && p_.schema.fields[*f].t.k == kind::enum_) {
      out_.locale_field = static_cast<std::int32_t>(*f);
      ir::instr in = make(ir::op::load_field, ir::rep::i64, p_.schema.where);
      in.a = static_cast<std::uint32_t>(*f);
      out_.locale_reg = emit(main, in);
    }
    for (const play_info& pl : p_.plays) {
      const ast::play_decl& decl = rules_.modules[pl.ref.module].plays[pl.ref.index];
      ir::play_code code;
      code.name = pl.name;
      code.signal = static_cast<std::uint32_t>(pl.signal.value_or(0));
      for (const ast::expr_id a : decl.audiences) code.audience.push_back(lower(pl.ref.module, a, 0, main));
      if (!decl.if_capped.empty() && decl.if_capped.front().action == ast::capped_action::defer) {
        code.defer = true;
        if (decl.if_capped.front().defer_days) code.defer_days = decl.if_capped.front().defer_days->value;
      }
      code.message = message(pl, decl.body, nullptr, pl.chan, pl.priority, pl.offer_id, decl.where);
      for (std::size_t i = 0; i < decl.steps.size(); ++i) {
        const ast::step_decl& st = decl.steps[i];
        const step_info& si = pl.steps[i];
        code.steps.push_back({st.name.name, lower(pl.ref.module, st.condition, 0, main),
                              message(pl, st.body, &decl.body, si.chan, si.priority, si.offer_id, st.where)});
      }
      out_.plays.push_back(std::move(code));
    }
    lower_policy(main);
    compute_needs();
    return std::move(out_);
  }

 private:
  std::uint32_t load_tonight(const context& c, std::size_t field, span where) {
    ir::instr in = make(ir::op::load_field, rep_of(p_.schema.fields[field].t), where);
    in.a = static_cast<std::uint32_t>(field);
    return emit(c, in);
  }

  static ir::period_code period(const ast::period& p) {
    if (p.calendar == "day") return {ir::clock::day, 1};
    if (p.calendar == "week") return {ir::clock::week, 7};
    if (p.calendar == "month") return {ir::clock::month, 31};
    return {ir::clock::rolling, p.days};
  }

  static std::string period_name(const ast::period& p) {
    return p.calendar.empty() ? std::to_string(p.days) + "d" : p.calendar;
  }

  static std::uint8_t channel_index(const ast::identifier& id) {
    return static_cast<std::uint8_t>(channel_named(id.name).value_or(channel::email));
  }

  // The policy's settings, with its conditions and the fields it reads (csm, the quiet
  // periods' dates, the holdout's bands) as registers of the main program.
  void lower_policy(const context& main) {
    if (!p_.policy.present || rules_.modules[p_.policy.ref.module].policies.empty()) return;
    const std::uint32_t m = p_.policy.ref.module;
    const ast::policy_decl& pol = rules_.modules[m].policies[p_.policy.ref.index];
    ir::policy_code& out = out_.policy;
    out.present = true;
    out.timezone = p_.policy.timezone;
    for (const ast::cap_decl& c : pol.caps) {
      ir::cap_code cap;
      cap.where = c.where;
      cap.window = period(c.window);
      cap.count = c.same_offer ? 1 : c.count.value;
      std::string generated;
      if (c.same_offer) {
        cap.kind = ir::cap_kind::same_offer;
        generated = "same_offer_per_" + period_name(c.window);
      } else if (c.unit && c.unit->name.starts_with("channel")) {
        cap.kind = ir::cap_kind::channels;
        generated = fmt::format("{}_channels_per_{}", cap.count, period_name(c.window));
      } else if (c.scope == ast::cap_scope::account_per_channel) {
        cap.kind = ir::cap_kind::per_channel;
        generated = fmt::format("{}_per_channel_per_{}", cap.count, period_name(c.window));
      } else if (c.scope == ast::cap_scope::account_on_channel && c.channel) {
        cap.kind = ir::cap_kind::on_channel;
        cap.channel = channel_index(*c.channel);
        generated = fmt::format("{}_on_{}_per_{}", cap.count, c.channel->name, period_name(c.window));
      } else {
        generated = fmt::format("{}_per_{}", cap.count, period_name(c.window));
      }
      cap.name = c.name ? c.name->name : "cap_" + generated;
      out.caps.push_back(std::move(cap));
    }
    for (const ast::quiet_decl& q : pol.quiets) {
      ir::quiet_code code;
      code.where = q.where;
      code.name = "quiet_before_" + q.date_field.name;
      code.days = q.days.value;
      if (const auto f = p_.schema.field(q.date_field.name)) code.date = load_tonight(main, *f, q.date_field.where);
      if (q.condition) code.when = lower(m, *q.condition, 0, main);
      for (const ast::identifier& e : q.exempt) {
        if (const auto pl = p_.play(e.name)) code.exempt.push_back(static_cast<std::uint32_t>(*pl));
      }
      out.quiets.push_back(std::move(code));
    }
    for (const ast::approval_decl& a : pol.approvals) {
      ir::approval_code code;
      code.where = a.where;
      if (a.condition) code.when = lower(m, *a.condition, 0, main);
      if (a.expires_days) code.expires_days = a.expires_days->value;
      out.approvals.push_back(code);
    }
    for (const ast::capacity_decl& c : pol.capacities) {
      out.capacities.push_back({c.count.value, period(c.window), c.where});
    }
    for (const ast::holdout_decl& h : pol.holdouts) {
      ir::holdout_code code;
      code.where = h.where;
      code.share = h.share;
      code.salt = h.salt.value;
      if (h.stratify_by) {
        if (const auto f = p_.schema.field(h.stratify_by->name)) {
          code.band = load_tonight(main, *f, h.stratify_by->where);
          code.band_rep = rep_of(p_.schema.fields[*f].t);
        }
      }
      out.holdout.push_back(std::move(code));
      break;
    }
    for (const ast::pilot_decl& pl : pol.pilots) {
      for (const ast::string_setting& a : pl.accounts) out.pilot.push_back(a.value);
    }
    if (const auto f = p_.schema.field("csm"); f && (!pol.capacities.empty() || !pol.approvals.empty())) {
      out.csm = load_tonight(main, *f, pol.where);
    }
  }

  ir::program& prog(const context& c) { return c.program < 0 ? out_.main : out_.events[static_cast<std::size_t>(c.program)]; }

  std::uint32_t new_reg(const context& c, ir::rep r) {
    ir::program& pr = prog(c);
    pr.registers.push_back(r);
    return static_cast<std::uint32_t>(pr.registers.size() - 1);
  }

  // Instructions are pure, so an identical one already emitted is reused (common
  // subexpressions such as `avg(dau, 7d)` written in two signals are computed once).
  std::uint32_t emit(const context& c, ir::instr in) {
    const auto key = std::tuple(c.program, in.code, in.out, in.in, in.a, in.b, in.c, in.sub, in.i, in.window, in.f);
    if (const auto it = seen_.find(key); it != seen_.end()) return it->second;
    in.dst = new_reg(c, in.out);
    prog(c).code.push_back(in);
    seen_.emplace(key, in.dst);
    return in.dst;
  }

  ir::instr make(ir::op code, ir::rep out, span where) {
    ir::instr in{};
    in.code = code;
    in.out = out;
    in.where = where;
    return in;
  }

  const type& type_of(std::uint32_t m, ast::expr_id id) const { return p_.tables[m].types[ast::index(id)]; }
  const symbol& symbol_of(std::uint32_t m, ast::expr_id id) const { return p_.tables[m].symbols[ast::index(id)]; }

  std::uint32_t as_f(const context& c, std::uint32_t reg, span where) {
    if (prog(c).registers[reg] == ir::rep::f64) return reg;
    ir::instr in = make(ir::op::to_f, ir::rep::f64, where);
    in.a = reg;
    return emit(c, in);
  }

  std::uint32_t text_constant(const std::string& s) {
    const auto it = std::find(out_.texts.begin(), out_.texts.end(), s);
    if (it != out_.texts.end()) return static_cast<std::uint32_t>(it - out_.texts.begin());
    out_.texts.push_back(s);
    return static_cast<std::uint32_t>(out_.texts.size() - 1);
  }

  // A value computed in the main program, seen from the current context.
  std::uint32_t from_main(const context& c, std::uint32_t main_reg, span where) {
    if (c.program < 0) return main_reg;
    ir::instr in = make(ir::op::outer, out_.main.registers[main_reg], where);
    in.a = main_reg;
    return emit(c, in);
  }

  std::uint32_t lower(std::uint32_t m, ast::expr_id id, std::int64_t offset, const context& c) {
    const auto key = std::tuple(m, ast::index(id), offset, c.program);
    if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
    const std::uint32_t r = lower_uncached(m, id, offset, c);
    memo_.emplace(key, r);
    return r;
  }

  std::uint32_t lower_uncached(std::uint32_t m, ast::expr_id id, std::int64_t offset, const context& c) {
    const ast::expr& e = rules_.modules[m].at(id);
    const type& t = type_of(m, id);
    const ir::rep out = rep_of(t);
    return std::visit(
        [&](const auto& k) -> std::uint32_t {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, ast::int_lit>) {
            ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
            in.i = k.value;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::number_lit> || std::is_same_v<K, ast::percent_lit>) {
            ir::instr in = make(ir::op::const_f, ir::rep::f64, e.where);
            in.f = k.value;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::duration_lit>) {
            ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
            in.i = k.days;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::money_lit>) {
            ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
            in.i = minor_units(k.amount, currency_at(t.ref).minor_digits);
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::string_lit>) {
            ir::instr in = make(ir::op::const_text, ir::rep::i64, e.where);
            in.i = text_constant(k.value);
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::bool_lit>) {
            ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
            in.i = k.value ? 1 : 0;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::name_ref> || std::is_same_v<K, ast::member>) {
            return reference(m, id, offset, c);
          } else if constexpr (std::is_same_v<K, ast::unary>) {
            const std::uint32_t a = lower(m, k.operand, offset, c);
            ir::op code = ir::op::logical_not;
            if (k.op == ast::unary_op::negate) code = out == ir::rep::f64 ? ir::op::neg_f : ir::op::neg_i;
            ir::instr in = make(code, out, e.where);
            in.a = code == ir::op::neg_f ? as_f(c, a, e.where) : a;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::binary>) {
            return binary(m, id, k, offset, c);
          } else if constexpr (std::is_same_v<K, ast::in_list>) {
            return in_list(m, e, k, offset, c);
          } else if constexpr (std::is_same_v<K, ast::between>) {
            const std::uint32_t low = comparison(m, e.where, k.value, k.low, ast::binary_op::ge, offset, c);
            const std::uint32_t high = comparison(m, e.where, k.value, k.high, ast::binary_op::le, offset, c);
            ir::instr in = make(ir::op::logical_and, ir::rep::i64, e.where);
            in.a = low;
            in.b = high;
            return emit(c, in);
          } else if constexpr (std::is_same_v<K, ast::call>) {
            return call(m, id, e, k, offset, c);
          } else {
            // where_filter only appears inside aggregates; error_expr never reaches lowering.
            ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
            return emit(c, in);
          }
        },
        e.kind);
  }

  // ---- messages --------------------------------------------------------------------------

  static ir::value_ref value_ref(std::uint32_t reg, const type& t, bool signed_percent) {
    ir::value_ref v;
    v.reg = reg;
    switch (t.k) {
      case kind::int_: v.how = ir::format::integer; break;
      case kind::number: v.how = ir::format::number; break;
      case kind::percent: v.how = signed_percent ? ir::format::signed_percent : ir::format::percent; break;
      case kind::money: v.how = ir::format::money; v.ref = t.ref; break;
      case kind::date: v.how = ir::format::date; break;
      case kind::bool_: v.how = ir::format::yes_no; break;
      case kind::enum_: v.how = ir::format::variant; v.ref = t.ref; break;
      case kind::duration: v.how = ir::format::days; break;
      default: v.how = ir::format::text; break;
    }
    return v;
  }

  // A change is printed with its sign (+18.3%); a share, a level, or a change the author
  // negated into a size of a drop is printed without (85%).
  bool signed_change(std::uint32_t m, ast::expr_id id) const {
    const ast::expr& e = rules_.modules[m].at(id);
    if (const auto* c = std::get_if<ast::call>(&e.kind)) return c->callee.name == "pct_change" || c->callee.name == "change";
    return false;
  }

  std::string title(const ast::signal_decl& decl, const std::string& locale) const {
    const bool is_default = !out_.locales.empty() && locale == out_.locales.front();
    std::string fallback = decl.name.name;
    for (const ast::title_decl& t : decl.titles) {
      if (t.locale && t.locale->name == locale) return t.text;
      if (!t.locale) {
        if (is_default) return t.text;
        fallback = t.text;
      }
    }
    return fallback;
  }

  ir::value_ref placeholder(const play_info& pl, const ast::placeholder& ph) {
    const context main;
    if (ph.path.size() == 2) {
      if (const auto s = p_.signal(ph.path[0].name)) return fact_of(*s, ph.path[1].name);
    }
    if (pl.signal) {
      const ir::value_ref v = fact_of(*pl.signal, ph.path[0].name);
      if (v.reg != ir::none) return v;
    }
    if (const auto f = p_.schema.field(ph.path[0].name)) {
      ir::instr in = make(ir::op::load_field, rep_of(p_.schema.fields[*f].t), ph.where);
      in.a = static_cast<std::uint32_t>(*f);
      return value_ref(emit(main, in), p_.schema.fields[*f].t, false);
    }
    return {};
  }

  ir::value_ref fact_of(std::size_t signal, const std::string& name) const {
    const ir::signal_code& s = out_.signals[signal];
    for (std::size_t i = 0; i < s.fact_names.size(); ++i) {
      if (s.fact_names[i] == name) return s.facts[i];
    }
    return {};
  }

  ir::part_code part(const play_info& pl, const ast::play_body& body, const ast::play_body* fallback, ast::part_kind k) {
    const ast::message_part* found = nullptr;
    for (const ast::play_body* b : {&body, fallback}) {
      if (b == nullptr || found != nullptr) continue;
      for (const ast::message_part& mp : b->parts) {
        if (mp.kind == k) {
          found = &mp;
          break;
        }
      }
    }
    ir::part_code code;
    if (found == nullptr) return code;
    for (const std::string& loc : out_.locales) {
      const ast::localized_text* pick = nullptr;
      for (const ast::localized_text& v : found->variants) {
        const bool match = v.locale ? v.locale->name == loc : loc == out_.locales.front();
        if (match && pick == nullptr) pick = &v;
      }
      if (pick == nullptr) pick = &found->variants.front();
      ir::text_code text;
      text.locale = loc;
      text.pieces = pick->text.pieces;
      for (const ast::placeholder& ph : pick->text.placeholders) text.values.push_back(placeholder(pl, ph));
      code.texts.push_back(std::move(text));
    }
    return code;
  }

  ir::message_code message(const play_info& pl, const ast::play_body& body, const ast::play_body* fallback, channel chan,
                           std::int64_t priority, const std::string& offer_id, span where) {
    ir::message_code m;
    m.channel = static_cast<std::uint8_t>(chan);
    m.priority = priority;
    m.offer_id = offer_id;
    m.where = where;
    m.why_now = part(pl, body, fallback, ast::part_kind::why_now);
    m.offer = part(pl, body, fallback, ast::part_kind::offer);
    m.next_step = part(pl, body, fallback, ast::part_kind::next_step);
    return m;
  }

  // ---- names ---------------------------------------------------------------------------------

  std::uint32_t reference(std::uint32_t m, ast::expr_id id, std::int64_t offset, const context& c) {
    const ast::expr& e = rules_.modules[m].at(id);
    const symbol& s = symbol_of(m, id);
    switch (s.what) {
      case symbol::of::field: {
        if (c.program >= 0) return from_main(c, lower(m, id, offset, context{}), e.where);
        ir::instr in = make(ir::op::load_field, rep_of(p_.schema.fields[s.a].t), e.where);
        in.a = s.a;
        in.i = offset;
        return emit(c, in);
      }
      case symbol::of::event_field: {
        ir::instr in = make(ir::op::load_event, rep_of(p_.schema.streams[s.a].fields[s.b].t), e.where);
        in.a = s.b;
        return emit(c, in);
      }
      case symbol::of::fact: {
        const signal_info& sig = p_.signals[s.a];
        const ast::let_decl& let = rules_.modules[sig.ref.module].signals[sig.ref.index].lets[s.b];
        return from_main(c, lower(sig.ref.module, let.value, offset, context{}), e.where);
      }
      case symbol::of::signal: {
        const signal_info& sig = p_.signals[s.a];
        const ast::signal_decl& decl = rules_.modules[sig.ref.module].signals[sig.ref.index];
        return from_main(c, lower(sig.ref.module, decl.conditions.front(), offset, context{}), e.where);
      }
      case symbol::of::variant: {
        ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
        in.i = s.b;
        return emit(c, in);
      }
      default: {
        ir::instr in = make(ir::op::const_i, ir::rep::i64, e.where);
        return emit(c, in);
      }
    }
  }

  std::uint32_t comparison(std::uint32_t m, span where, ast::expr_id lhs, ast::expr_id rhs, ast::binary_op op,
                           std::int64_t offset, const context& c) {
    const type& lt = type_of(m, lhs);
    const type& rt = type_of(m, rhs);
    std::uint32_t a = lower(m, lhs, offset, c);
    std::uint32_t b = lower(m, rhs, offset, c);
    const bool floating = rep_of(lt) == ir::rep::f64 || rep_of(rt) == ir::rep::f64;
    if (floating) {
      a = as_f(c, a, where);
      b = as_f(c, b, where);
    }
    static constexpr ir::op int_ops[] = {ir::op::eq_i, ir::op::ne_i, ir::op::lt_i, ir::op::le_i, ir::op::gt_i, ir::op::ge_i};
    static constexpr ir::op float_ops[] = {ir::op::eq_f, ir::op::ne_f, ir::op::lt_f, ir::op::le_f, ir::op::gt_f, ir::op::ge_f};
    const auto k = static_cast<std::size_t>(op) - static_cast<std::size_t>(ast::binary_op::eq);
    // Text ids are interned, so equal texts have equal ids; text has no order.
    ir::instr in = make(floating ? float_ops[k] : int_ops[k], ir::rep::i64, where);
    in.a = a;
    in.b = b;
    return emit(c, in);
  }

  std::uint32_t binary(std::uint32_t m, ast::expr_id id, const ast::binary& b, std::int64_t offset, const context& c) {
    using bop = ast::binary_op;
    const ast::expr& e = rules_.modules[m].at(id);
    if (b.op == bop::logical_and || b.op == bop::logical_or) {
      ir::instr in = make(b.op == bop::logical_and ? ir::op::logical_and : ir::op::logical_or, ir::rep::i64, e.where);
      in.a = lower(m, b.lhs, offset, c);
      in.b = lower(m, b.rhs, offset, c);
      return emit(c, in);
    }
    if (b.op >= bop::eq && b.op <= bop::ge) return comparison(m, e.where, b.lhs, b.rhs, b.op, offset, c);
    const type& lt = type_of(m, b.lhs);
    const type& rt = type_of(m, b.rhs);
    const type& result = type_of(m, id);
    std::uint32_t a = lower(m, b.lhs, offset, c);
    std::uint32_t r = lower(m, b.rhs, offset, c);
    if (b.op == bop::coalesce) {
      if (rep_of(result) == ir::rep::f64) {
        a = as_f(c, a, e.where);
        r = as_f(c, r, e.where);
      }
      ir::instr in = make(ir::op::coalesce, rep_of(result), e.where);
      in.a = a;
      in.b = r;
      return emit(c, in);
    }
    ir::instr in = make(ir::op::add_i, rep_of(result), e.where);
    in.a = a;
    in.b = r;
    const bool money = result.k == kind::money;
    if (money && (b.op == bop::mul || b.op == bop::div) && !(lt.k == kind::money && rt.k == kind::money)) {
      // money * factor, factor * money, money / factor: exact in minor units, rounded.
      const bool money_left = lt.k == kind::money;
      const std::uint32_t amount = money_left ? a : r;
      const std::uint32_t factor = money_left ? r : a;
      if (b.op == bop::mul && rep_of(money_left ? rt : lt) == ir::rep::i64) {
        in.code = ir::op::mul_i;
        return emit(c, in);
      }
      in.code = b.op == bop::mul ? ir::op::money_mul : ir::op::money_div;
      in.a = amount;
      in.b = as_f(c, factor, e.where);
      return emit(c, in);
    }
    if (rep_of(result) == ir::rep::i64) {
      if (b.op == bop::div) return emit(c, in);  // unreachable: division yields number
      in.code = b.op == bop::add ? ir::op::add_i : b.op == bop::sub ? ir::op::sub_i : ir::op::mul_i;
      return emit(c, in);
    }
    // A floating result: ratios of two integers or amounts, or arithmetic on numbers.
    if (b.op == bop::div && rep_of(lt) == ir::rep::i64 && rep_of(rt) == ir::rep::i64) {
      in.code = ir::op::ratio;
      return emit(c, in);
    }
    in.a = as_f(c, a, e.where);
    in.b = as_f(c, r, e.where);
    in.code = b.op == bop::add ? ir::op::add_f : b.op == bop::sub ? ir::op::sub_f : b.op == bop::mul ? ir::op::mul_f : ir::op::div_f;
    return emit(c, in);
  }

  std::uint32_t in_list(std::uint32_t m, const ast::expr& e, const ast::in_list& in, std::int64_t offset, const context& c) {
    const type& vt = type_of(m, in.value);
    const bool floating = rep_of(vt) == ir::rep::f64;
    std::vector<std::int64_t> ints;
    std::vector<double> floats;
    bool constant = true;
    for (const ast::expr_id item : in.items) {
      const ast::expr& ie = rules_.modules[m].at(item);
      const symbol& s = symbol_of(m, item);
      if (const auto* i = std::get_if<ast::int_lit>(&ie.kind)) {
        ints.push_back(i->value);
        floats.push_back(static_cast<double>(i->value));
      } else if (const auto* n = std::get_if<ast::number_lit>(&ie.kind)) {
        floats.push_back(n->value);
        if (!floating) constant = false;
      } else if (const auto* p = std::get_if<ast::percent_lit>(&ie.kind)) {
        floats.push_back(p->value);
        if (!floating) constant = false;
      } else if (const auto* str = std::get_if<ast::string_lit>(&ie.kind)) {
        ints.push_back(text_constant(str->value));
      } else if (s.what == symbol::of::variant) {
        ints.push_back(s.b);
      } else {
        constant = false;
      }
    }
    std::uint32_t result = ir::none;
    if (constant) {
      ir::instr op = make(floating ? ir::op::in_f : vt.k == kind::text ? ir::op::in_text : ir::op::in_i, ir::rep::i64, e.where);
      op.a = lower(m, in.value, offset, c);
      if (floating) {
        out_.float_sets.push_back(floats);
        op.b = static_cast<std::uint32_t>(out_.float_sets.size() - 1);
      } else {
        out_.int_sets.push_back(ints);
        op.b = static_cast<std::uint32_t>(out_.int_sets.size() - 1);
      }
      result = emit(c, op);
    } else {
      for (const ast::expr_id item : in.items) {
        const std::uint32_t eq = comparison(m, e.where, in.value, item, ast::binary_op::eq, offset, c);
        if (result == ir::none) {
          result = eq;
          continue;
        }
        ir::instr any = make(ir::op::logical_or, ir::rep::i64, e.where);
        any.a = result;
        any.b = eq;
        result = emit(c, any);
      }
      if (result == ir::none) {
        ir::instr f = make(ir::op::const_i, ir::rep::i64, e.where);
        result = emit(c, f);
      }
    }
    if (!in.negated) return result;
    ir::instr neg = make(ir::op::logical_not, ir::rep::i64, e.where);
    neg.a = result;
    return emit(c, neg);
  }

  struct event_source {
    std::int32_t stream = -1;
    std::uint32_t field = ir::none;
    std::optional<ast::expr_id> predicate;
  };

  event_source events_of(std::uint32_t m, ast::expr_id id) const {
    const ast::expr& e = rules_.modules[m].at(id);
    event_source src;
    ast::expr_id base = id;
    if (const auto* w = std::get_if<ast::where_filter>(&e.kind)) {
      src.predicate = w->predicate;
      base = w->stream;
    }
    const type& t = type_of(m, base);
    src.stream = t.k == kind::stream || t.k == kind::column ? t.ref : -1;
    if (t.k == kind::column) src.field = t.field;
    return src;
  }

  std::uint32_t call(std::uint32_t m, ast::expr_id id, const ast::expr& e, const ast::call& k, std::int64_t offset,
                     const context& c) {
    const std::string& fn = k.callee.name;
    const type& t = type_of(m, id);
    const ir::rep out = rep_of(t);
    auto window_of = [&](ast::expr_id w) -> std::int64_t {
      const ast::expr& we = rules_.modules[m].at(w);
      if (const auto* d = std::get_if<ast::duration_lit>(&we.kind)) return d->days;
      return 1;
    };
    if (fn == "today") {
      ir::instr in = make(ir::op::today, ir::rep::i64, e.where);
      in.i = offset;
      return emit(c, in);
    }
    if (fn == "present" || fn == "abs" || fn == "days_until" || fn == "days_since") {
      const std::uint32_t a = lower(m, k.args[0], offset, c);
      ir::op code = fn == "present" ? ir::op::present
                    : fn == "days_until" ? ir::op::days_until
                    : fn == "days_since" ? ir::op::days_since
                    : out == ir::rep::f64 ? ir::op::abs_f : ir::op::abs_i;
      ir::instr in = make(code, code == ir::op::abs_f ? ir::rep::f64 : ir::rep::i64, e.where);
      in.a = code == ir::op::abs_f ? as_f(c, a, e.where) : a;
      in.i = offset;
      return emit(c, in);
    }
    if (fn == "share") {
      ir::instr in = make(ir::op::share, ir::rep::f64, e.where);
      in.a = as_f(c, lower(m, k.args[0], offset, c), e.where);
      in.b = as_f(c, lower(m, k.args[1], offset, c), e.where);
      return emit(c, in);
    }
    const std::int64_t days = window_of(k.args[1]);
    if (fn == "ago") return lower(m, k.args[0], offset + days, c);
    if (fn == "change" || fn == "pct_change") {
      const std::uint32_t now = lower(m, k.args[0], offset, c);
      const std::uint32_t then = lower(m, k.args[0], offset + days, c);
      ir::instr in = make(fn == "change" ? (out == ir::rep::f64 ? ir::op::sub_f : ir::op::sub_i) : ir::op::pct_change, out, e.where);
      const bool f = in.code != ir::op::sub_i;
      in.a = f ? as_f(c, now, e.where) : now;
      in.b = f ? as_f(c, then, e.where) : then;
      return emit(c, in);
    }
    static constexpr std::pair<std::string_view, ir::agg> aggs[] = {
        {"avg", ir::agg::avg}, {"sum", ir::agg::sum}, {"min", ir::agg::min}, {"max", ir::agg::max},
        {"count", ir::agg::count}, {"most_frequent", ir::agg::most_frequent}};
    ir::agg which = ir::agg::count;
    for (const auto& [name, a] : aggs) {
      if (name == fn) which = a;
    }
    const event_source src = events_of(m, k.args[0]);
    if (src.stream >= 0) {
      ir::instr in = make(ir::op::event_agg, out, e.where);
      in.a = static_cast<std::uint32_t>(src.stream);
      in.b = static_cast<std::uint32_t>(which);
      in.c = src.field;
      in.in = src.field == ir::none ? ir::rep::i64 : rep_of(p_.schema.streams[src.stream].fields[src.field].t);
      in.text = src.field != ir::none && p_.schema.streams[src.stream].fields[src.field].t.k == kind::text;
      in.i = offset;
      in.window = days;
      if (src.predicate) {
        ir::program pred;
        pred.stream = src.stream;
        out_.events.push_back(std::move(pred));
        const context inner{static_cast<std::int32_t>(out_.events.size() - 1), src.stream};
        lower(m, *src.predicate, offset, inner);
        in.sub = static_cast<std::uint32_t>(inner.program);
      }
      if (c.program >= 0) return from_main(c, emit(context{}, in), e.where);
      return emit(c, in);
    }
    // A window over snapshot values: a plain field reads its slots directly.
    const ast::expr& arg = rules_.modules[m].at(k.args[0]);
    const symbol& s = symbol_of(m, k.args[0]);
    if (std::holds_alternative<ast::name_ref>(arg.kind) && s.what == symbol::of::field && c.program < 0) {
      ir::instr in = make(ir::op::window_field, out, e.where);
      in.a = s.a;
      in.b = static_cast<std::uint32_t>(which);
      in.in = rep_of(p_.schema.fields[s.a].t);
      in.i = offset;
      in.window = days;
      return emit(c, in);
    }
    std::vector<std::int64_t> regs;
    const ir::rep in_rep = rep_of(type_of(m, k.args[0]));
    for (std::int64_t d = 0; d < days; ++d) regs.push_back(lower(m, k.args[0], offset + d, c));
    out_.int_sets.push_back(std::move(regs));
    ir::instr in = make(ir::op::window_regs, out, e.where);
    in.b = static_cast<std::uint32_t>(which);
    in.in = in_rep;
    in.sub = static_cast<std::uint32_t>(out_.int_sets.size() - 1);
    in.window = days;
    return emit(c, in);
  }

  void compute_needs() {
    std::map<std::uint32_t, std::set<std::int32_t>> offsets;
    std::map<std::uint32_t, std::pair<std::int64_t, std::set<std::uint32_t>>> streams;
    for (const ir::instr& in : out_.main.code) {
      if (in.code == ir::op::load_field) offsets[in.a].insert(static_cast<std::int32_t>(in.i));
      if (in.code == ir::op::window_field) {
        for (std::int64_t d = 0; d < in.window; ++d) offsets[in.a].insert(static_cast<std::int32_t>(in.i + d));
      }
      if (in.code == ir::op::today || in.code == ir::op::days_until || in.code == ir::op::days_since) {
        out_.lookback = std::max(out_.lookback, in.i);
      }
      if (in.code == ir::op::event_agg) {
        auto& [back, fields] = streams[in.a];
        back = std::max(back, in.i + in.window - 1);
        fields.insert(static_cast<std::uint32_t>(p_.schema.streams[in.a].time_field));
        if (in.c != ir::none) fields.insert(in.c);
        if (in.sub != ir::none) {
          for (const ir::instr& e : out_.events[in.sub].code) {
            if (e.code == ir::op::load_event) fields.insert(e.a);
          }
        }
      }
    }
    for (const auto& [field, offs] : offsets) {
      out_.fields.push_back({field, std::vector<std::int32_t>(offs.begin(), offs.end())});
      out_.lookback = std::max<std::int64_t>(out_.lookback, *offs.rbegin());
    }
    for (const auto& [stream, need] : streams) {
      out_.streams.push_back({stream, need.first, std::vector<std::uint32_t>(need.second.begin(), need.second.end())});
      out_.lookback = std::max(out_.lookback, need.first);
    }
  }

  const rule_set& rules_;
  const program& p_;
  ir::module out_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::int64_t, std::int32_t>, std::uint32_t> memo_;
  std::map<std::tuple<std::int32_t, ir::op, ir::rep, ir::rep, std::uint32_t, std::uint32_t, std::uint32_t,
                      std::uint32_t, std::int64_t, std::int64_t, double>,
           std::uint32_t>
      seen_;
};

}  // namespace

std::int64_t minor_units(std::string_view amount, int minor_digits) {
  std::int64_t whole = 0;
  std::size_t i = 0;
  for (; i < amount.size() && amount[i] != '.'; ++i) whole = whole * 10 + (amount[i] - '0');
  std::int64_t fraction = 0;
  int digits = 0;
  bool round_up = false;
  if (i < amount.size()) {
    for (++i; i < amount.size(); ++i) {
      if (digits < minor_digits) {
        fraction = fraction * 10 + (amount[i] - '0');
        ++digits;
      } else if (digits == minor_digits) {
        round_up = amount[i] >= '5';
        ++digits;
      }
    }
  }
  for (; digits < minor_digits; ++digits) fraction *= 10;
  std::int64_t scale = 1;
  for (int d = 0; d < minor_digits; ++d) scale *= 10;
  return whole * scale + fraction + (round_up ? 1 : 0);
}

ir::module lower(const rule_set& rules, const program& checked) { return lowerer(rules, checked).run(); }

}  // namespace nudge::compiler
