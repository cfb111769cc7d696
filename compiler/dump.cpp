#include "compiler/dump.hpp"

#include <fmt/format.h>

#include <ostream>

namespace nudge::compiler {
namespace {

constexpr std::string_view binary_symbol(ast::binary_op op) {
  constexpr std::string_view names[] = {"or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "??"};
  return names[static_cast<int>(op)];
}

constexpr std::string_view part_name(ast::part_kind k) {
  constexpr std::string_view names[] = {"why_now", "offer", "next_step"};
  return names[static_cast<int>(k)];
}

class printer {
 public:
  printer(std::ostream& out, const rule_set& rules, const program* checked) : out_(out), rules_(rules), p_(checked) {}

  void module(std::uint32_t m) {
    module_ = m;
    const ast::module& mod = rules_.modules[m];
    line(0, fmt::format("module {}", rules_.sources.file(mod.file).path()));
    for (const ast::use_decl& u : mod.uses) line(1, fmt::format("use \"{}\" {}", u.path.value, at(u.where)));
    for (const ast::schema_decl& s : mod.schemas) schema(s);
    for (const ast::signal_decl& s : mod.signals) signal(s);
    for (const ast::play_decl& p : mod.plays) play(p);
    for (const ast::policy_decl& p : mod.policies) policy(p);
    for (const ast::broken_decl& b : mod.broken) {
      line(1, fmt::format("skipped {} {} {}", b.keyword.empty() ? "text" : b.keyword, b.name, at(b.where)));
    }
    if (!mod.comments.empty()) line(1, fmt::format("comments {}", mod.comments.size()));
  }

 private:
  std::string at(span s) const {
    const source_file& f = rules_.sources.file(s.file);
    const line_col b = f.position(s.begin);
    const line_col e = f.position(s.end);
    return fmt::format("[{}:{}-{}:{}]", b.line, b.column, e.line, e.column);
  }

  void line(int depth, std::string_view text) {
    out_ << std::string(static_cast<std::size_t>(depth) * 2, ' ') << text << '\n';
  }

  std::string type_suffix(ast::expr_id id) const {
    if (p_ == nullptr) return "";
    const type& t = p_->tables[module_].types[ast::index(id)];
    std::string s = " : " + to_string(t, p_->schema.names());
    if (t.partial) s += " (may be unknown)";
    const std::int64_t lb = p_->tables[module_].lookback[ast::index(id)];
    if (lb > 0) s += fmt::format(" (reads {}d back)", lb);
    return s;
  }

  std::string resolution(ast::expr_id id) const {
    if (p_ == nullptr) return "";
    const symbol& s = p_->tables[module_].symbols[ast::index(id)];
    switch (s.what) {
      case symbol::of::field:
        return " -> field";
      case symbol::of::stream:
        return " -> events";
      case symbol::of::event_field:
        return " -> event field";
      case symbol::of::fact:
        return fmt::format(" -> fact of {}", p_->signals[s.a].name);
      case symbol::of::signal:
        return " -> signal";
      case symbol::of::variant:
        return " -> variant";
      default:
        return "";
    }
  }

  void expr(int depth, ast::expr_id id) {
    const ast::expr& e = rules_.modules[module_].at(id);
    const std::string where = at(e.where) + type_suffix(id);
    std::visit(
        [&](const auto& k) {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, ast::int_lit>) {
            line(depth, fmt::format("int {} {}", k.value, where));
          } else if constexpr (std::is_same_v<K, ast::number_lit>) {
            line(depth, fmt::format("number {} {}", k.value, where));
          } else if constexpr (std::is_same_v<K, ast::percent_lit>) {
            line(depth, fmt::format("percent {} {}", k.value, where));
          } else if constexpr (std::is_same_v<K, ast::duration_lit>) {
            line(depth, fmt::format("duration {}d {}", k.days, where));
          } else if constexpr (std::is_same_v<K, ast::money_lit>) {
            line(depth, fmt::format("money {} {} {}", k.amount, k.currency.name, where));
          } else if constexpr (std::is_same_v<K, ast::string_lit>) {
            line(depth, fmt::format("string \"{}\" {}", k.value, where));
          } else if constexpr (std::is_same_v<K, ast::bool_lit>) {
            line(depth, fmt::format("bool {} {}", k.value, where));
          } else if constexpr (std::is_same_v<K, ast::name_ref>) {
            line(depth, fmt::format("name {}{} {}", k.name.name, resolution(id), where));
          } else if constexpr (std::is_same_v<K, ast::member>) {
            line(depth, fmt::format("member .{}{} {}", k.name.name, resolution(id), where));
            expr(depth + 1, k.object);
          } else if constexpr (std::is_same_v<K, ast::call>) {
            line(depth, fmt::format("call {} {}", k.callee.name, where));
            for (const ast::expr_id a : k.args) expr(depth + 1, a);
          } else if constexpr (std::is_same_v<K, ast::unary>) {
            line(depth, fmt::format("unary {} {}", k.op == ast::unary_op::negate ? "-" : "not", where));
            expr(depth + 1, k.operand);
          } else if constexpr (std::is_same_v<K, ast::binary>) {
            line(depth, fmt::format("binary {} {}", binary_symbol(k.op), where));
            expr(depth + 1, k.lhs);
            expr(depth + 1, k.rhs);
          } else if constexpr (std::is_same_v<K, ast::in_list>) {
            line(depth, fmt::format("{} {}", k.negated ? "not in" : "in", where));
            expr(depth + 1, k.value);
            for (const ast::expr_id i : k.items) expr(depth + 2, i);
          } else if constexpr (std::is_same_v<K, ast::between>) {
            line(depth, fmt::format("between {}", where));
            expr(depth + 1, k.value);
            expr(depth + 1, k.low);
            expr(depth + 1, k.high);
          } else if constexpr (std::is_same_v<K, ast::where_filter>) {
            line(depth, fmt::format("where {}", where));
            expr(depth + 1, k.stream);
            expr(depth + 1, k.predicate);
          } else {
            line(depth, fmt::format("error {}", where));
          }
        },
        e.kind);
  }

  void text(int depth, const ast::localized_text& t) {
    std::string s = fmt::format("text {} {}", t.locale ? t.locale->name : "(default)", at(t.text.where));
    for (const ast::placeholder& p : t.text.placeholders) {
      std::string path;
      for (const ast::identifier& part : p.path) path += (path.empty() ? "" : ".") + part.name;
      s += " {" + path + "}";
    }
    line(depth, s);
  }

  void body(int depth, const ast::play_body& b) {
    for (const ast::identifier& c : b.channels) line(depth, fmt::format("channel {} {}", c.name, at(c.where)));
    for (const ast::int_setting& p : b.priorities) line(depth, fmt::format("priority {} {}", p.value, at(p.where)));
    for (const ast::string_setting& o : b.offer_ids)
      line(depth, fmt::format("offer_id \"{}\" {}", o.value, at(o.where)));
    for (const ast::message_part& part : b.parts) {
      line(depth, fmt::format("{} {}", part_name(part.kind), at(part.keyword)));
      for (const ast::localized_text& t : part.variants) text(depth + 1, t);
    }
  }

  void type_ref(int depth, const ast::field_decl& f) {
    std::string t = f.type.name.name;
    if (f.type.currency) t += "(" + f.type.currency->name + ")";
    if (!f.type.variants.empty()) {
      t += "(";
      for (std::size_t i = 0; i < f.type.variants.size(); ++i) t += (i ? ", " : "") + f.type.variants[i].name;
      t += ")";
    }
    if (f.type.optional) t += "?";
    const std::string column = f.column ? fmt::format(" from \"{}\"", f.column->value) : "";
    line(depth, fmt::format("field {}: {}{} {}", f.name.name, t, column, at(f.where)));
  }

  void schema(const ast::schema_decl& s) {
    line(1, fmt::format("schema {}", at(s.where)));
    for (const ast::int_setting& h : s.history_days) line(2, fmt::format("history {}d {}", h.value, at(h.where)));
    for (const ast::field_decl& f : s.fields) type_ref(2, f);
    for (const ast::stream_decl& st : s.streams) {
      line(2, fmt::format("events {} at {} {}", st.name.name, st.time_field.name, at(st.where)));
      for (const ast::field_decl& f : st.fields) type_ref(3, f);
    }
  }

  void signal(const ast::signal_decl& s) {
    std::string extra;
    if (p_ != nullptr) {
      if (const auto i = p_->signal(s.name.name))
        extra = fmt::format(" (reads {}d back)", p_->signals[*i].lookback_days);
    }
    line(1, fmt::format("signal {} {}{}", s.name.name, at(s.where), extra));
    for (const ast::title_decl& t : s.titles) {
      line(2, fmt::format("title {} \"{}\" {}", t.locale ? t.locale->name : "(default)", t.text, at(t.where)));
    }
    for (const ast::let_decl& l : s.lets) {
      line(2, fmt::format("let {} {}", l.name.name, at(l.where)));
      expr(3, l.value);
    }
    for (const ast::expr_id c : s.conditions) {
      line(2, "when");
      expr(3, c);
    }
  }

  void play(const ast::play_decl& p) {
    line(1, fmt::format("play {} on {} {}", p.name.name, p.signal ? p.signal->name : "(none)", at(p.where)));
    for (const ast::expr_id a : p.audiences) {
      line(2, "audience");
      expr(3, a);
    }
    for (const ast::if_capped_setting& c : p.if_capped) {
      line(2, fmt::format("if_capped {}{} {}", c.action == ast::capped_action::defer ? "defer" : "suppress",
                          c.defer_days ? fmt::format(" up to {}d", c.defer_days->value) : "", at(c.where)));
    }
    body(2, p.body);
    for (const ast::step_decl& s : p.steps) {
      line(2, fmt::format("step {} {}", s.name.name, at(s.where)));
      line(3, "when");
      expr(4, s.condition);
      body(3, s.body);
    }
  }

  static std::string period(const ast::period& p) {
    return p.calendar.empty() ? fmt::format("{}d", p.days) : p.calendar;
  }

  void policy(const ast::policy_decl& p) {
    line(1, fmt::format("policy {}", at(p.where)));
    for (const ast::identifier& l : p.locales) line(2, fmt::format("locale {} {}", l.name, at(l.where)));
    for (const ast::string_setting& t : p.timezones) line(2, fmt::format("timezone \"{}\" {}", t.value, at(t.where)));
    for (const ast::cap_decl& c : p.caps) {
      std::string what =
          c.same_offer ? "same offer" : fmt::format("{} {}", c.count.value, c.unit ? c.unit->name : "touches");
      std::string scope = c.scope == ast::cap_scope::account               ? "per account"
                          : c.scope == ast::cap_scope::account_per_channel ? "per account per channel"
                                                                           : "per account on " + c.channel->name;
      line(2, fmt::format("cap {} {} per {}{} {}", what, scope, period(c.window), c.name ? " as " + c.name->name : "",
                          at(c.where)));
    }
    for (const ast::quiet_decl& q : p.quiets) {
      std::string exempt;
      for (const ast::identifier& e : q.exempt) exempt += " " + e.name;
      line(2, fmt::format("quiet {}d before {}{} {}", q.days.value, q.date_field.name,
                          exempt.empty() ? "" : " except" + exempt, at(q.where)));
      if (q.condition) expr(3, *q.condition);
    }
    for (const ast::capacity_decl& c : p.capacities) {
      line(2, fmt::format("capacity {} per csm per {} {}", c.count.value, period(c.window), at(c.where)));
    }
    for (const ast::approval_decl& a : p.approvals) {
      line(2, fmt::format("approval by csm{} {}",
                          a.expires_days ? fmt::format(" expires {}d", a.expires_days->value) : "", at(a.where)));
      if (a.condition) expr(3, *a.condition);
    }
    for (const ast::holdout_decl& h : p.holdouts) {
      line(2, fmt::format("holdout {} salt \"{}\"{} {}", h.share, h.salt.value,
                          h.stratify_by ? " by " + h.stratify_by->name : "", at(h.where)));
    }
    for (const ast::pilot_decl& pilot : p.pilots) {
      std::string ids;
      for (const ast::string_setting& a : pilot.accounts) ids += " \"" + a.value + "\"";
      line(2, fmt::format("pilot{} {}", ids, at(pilot.where)));
    }
  }

  std::ostream& out_;
  const rule_set& rules_;
  const program* p_;
  std::uint32_t module_ = 0;
};

}  // namespace

void dump_ast(std::ostream& out, const rule_set& rules) {
  printer pr(out, rules, nullptr);
  for (std::uint32_t m = 0; m < rules.modules.size(); ++m) pr.module(m);
}

void dump_typed(std::ostream& out, const rule_set& rules, const program& checked) {
  printer pr(out, rules, &checked);
  for (std::uint32_t m = 0; m < rules.modules.size(); ++m) pr.module(m);
}

}  // namespace nudge::compiler
