// Warnings: rules that check but are likely wrong. A generic message (why_now with no fact),
// a signal nobody uses, a condition that can never be true, a play no cap covers.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/checker.hpp"

namespace nudge::compiler {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

// A closed or open interval of the values an expression can take.
struct interval {
  double lo = -inf;
  double hi = inf;
  bool lo_open = false;
  bool hi_open = false;
  std::string why;  // what bounds it, for the message

  bool empty() const { return lo > hi || (lo == hi && (lo_open || hi_open)); }
};

struct finding {
  span where;
  std::string reason;
};

class range_analysis {
 public:
  range_analysis(const rule_set& rules, const program& p, std::uint32_t module)
      : rules_(rules), p_(p), module_(module) {}

  std::optional<finding> never_true(ast::expr_id id) const {
    const ast::expr& e = at(id);
    if (const auto* b = std::get_if<ast::binary>(&e.kind)) {
      if (b->op == ast::binary_op::logical_and) {
        if (auto f = never_true(b->lhs)) return f;
        if (auto f = never_true(b->rhs)) return f;
        return contradiction(id);
      }
      if (b->op == ast::binary_op::logical_or) {
        const auto l = never_true(b->lhs);
        const auto r = l ? never_true(b->rhs) : std::nullopt;
        if (l && r) return finding{e.where, l->reason + ", and " + r->reason};
        return std::nullopt;
      }
      const auto c = constraint(*b);
      if (!c) return std::nullopt;
      interval both = intersect(range(c->subject), c->allowed);
      if (both.empty()) {
        const interval r = range(c->subject);
        return finding{e.where, r.why};
      }
      return std::nullopt;
    }
    if (const auto* in = std::get_if<ast::in_list>(&e.kind); in && in->items.empty() && !in->negated) {
      return finding{e.where, "the list is empty"};
    }
    if (const auto* bt = std::get_if<ast::between>(&e.kind)) {
      const auto lo = constant(bt->low);
      const auto hi = constant(bt->high);
      if (lo && hi && *lo > *hi) return finding{e.where, "the lower bound is above the upper bound"};
      interval allowed;
      if (lo) allowed.lo = *lo;
      if (hi) allowed.hi = *hi;
      const interval r = range(bt->value);
      if (intersect(r, allowed).empty()) return finding{e.where, r.why};
    }
    return std::nullopt;
  }

 private:
  struct bound {
    ast::expr_id subject;
    interval allowed;
  };

  const ast::expr& at(ast::expr_id id) const { return rules_.modules[module_].at(id); }

  std::optional<double> constant(ast::expr_id id) const {
    const ast::expr& e = at(id);
    if (const auto* i = std::get_if<ast::int_lit>(&e.kind)) return static_cast<double>(i->value);
    if (const auto* n = std::get_if<ast::number_lit>(&e.kind)) return n->value;
    if (const auto* p = std::get_if<ast::percent_lit>(&e.kind)) return p->value;
    if (const auto* u = std::get_if<ast::unary>(&e.kind); u && u->op == ast::unary_op::negate) {
      if (const auto v = constant(u->operand)) return -*v;
    }
    return std::nullopt;
  }

  // `x op c` or `c op x` as "x lies in an interval".
  std::optional<bound> constraint(const ast::binary& b) const {
    using op = ast::binary_op;
    if (b.op < op::eq || b.op > op::ge) return std::nullopt;
    ast::expr_id subject = b.lhs;
    std::optional<double> c = constant(b.rhs);
    op o = b.op;
    if (!c) {
      c = constant(b.lhs);
      subject = b.rhs;
      if (!c) return std::nullopt;
      // Mirror: c < x  is  x > c.
      if (o == op::lt)
        o = op::gt;
      else if (o == op::le)
        o = op::ge;
      else if (o == op::gt)
        o = op::lt;
      else if (o == op::ge)
        o = op::le;
    }
    interval allowed;
    switch (o) {
      case op::eq:
        allowed.lo = allowed.hi = *c;
        break;
      case op::gt:
        allowed.lo = *c;
        allowed.lo_open = true;
        break;
      case op::ge:
        allowed.lo = *c;
        break;
      case op::lt:
        allowed.hi = *c;
        allowed.hi_open = true;
        break;
      case op::le:
        allowed.hi = *c;
        break;
      default:
        return std::nullopt;  // != rarely excludes a whole range
    }
    return bound{subject, allowed};
  }

  static interval intersect(interval a, const interval& b) {
    if (b.lo > a.lo || (b.lo == a.lo && b.lo_open)) {
      a.lo = b.lo;
      a.lo_open = b.lo_open;
    }
    if (b.hi < a.hi || (b.hi == a.hi && b.hi_open)) {
      a.hi = b.hi;
      a.hi_open = b.hi_open;
    }
    return a;
  }

  // What values an expression can take, as far as its shape tells.
  interval range(ast::expr_id id) const {
    const ast::expr& e = at(id);
    if (const auto c = constant(id)) return interval{*c, *c, false, false, "it is a constant"};
    if (const auto* call = std::get_if<ast::call>(&e.kind)) {
      const std::string& fn = call->callee.name;
      if (fn == "share") return interval{0, 1, false, false, "a share is between 0% and 100%"};
      if (fn == "count") return interval{0, inf, false, false, "a count is never negative"};
      if (fn == "abs") return interval{0, inf, false, false, "`abs` is never negative"};
      if (fn == "pct_change") return interval{-1, inf, false, false, "a value cannot fall by more than 100%"};
    }
    const symbol& sym = p_.tables[module_].symbols[ast::index(id)];
    if (sym.what == symbol::of::fact) {
      const signal_info& s = p_.signals[sym.a];
      if (s.ref.module == module_) {
        const ast::let_decl& let = rules_.modules[s.ref.module].signals[s.ref.index].lets[sym.b];
        interval r = range(let.value);
        if (!r.why.empty()) r.why = quoted(let.name.name) + ": " + r.why;
        return r;
      }
    }
    return interval{};
  }

  // Expressions are compared by their source text: `x > 5 and x < 3` names `x` twice.
  std::string key(ast::expr_id id) const {
    const span s = at(id).where;
    return std::string(rules_.sources.file(s.file).slice(s));
  }

  void conjuncts(ast::expr_id id, std::vector<ast::expr_id>& out) const {
    if (const auto* b = std::get_if<ast::binary>(&at(id).kind); b && b->op == ast::binary_op::logical_and) {
      conjuncts(b->lhs, out);
      conjuncts(b->rhs, out);
      return;
    }
    out.push_back(id);
  }

  std::optional<finding> contradiction(ast::expr_id id) const {
    std::vector<ast::expr_id> parts;
    conjuncts(id, parts);
    std::vector<std::pair<std::string, interval>> seen;
    for (const ast::expr_id part : parts) {
      const auto* b = std::get_if<ast::binary>(&at(part).kind);
      if (b == nullptr) continue;
      const auto c = constraint(*b);
      if (!c) continue;
      const std::string k = key(c->subject);
      auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == k; });
      if (it == seen.end()) {
        seen.emplace_back(k, c->allowed);
        continue;
      }
      it->second = intersect(it->second, c->allowed);
      if (it->second.empty()) {
        return finding{at(id).where, "the conditions on " + quoted(k) + " contradict each other"};
      }
    }
    return std::nullopt;
  }

  const rule_set& rules_;
  const program& p_;
  std::uint32_t module_;
};

}  // namespace

void checker::lint_never_true(std::uint32_t module, ast::expr_id id) {
  if (p_.tables[module].types[ast::index(id)].is_error()) return;
  const range_analysis ra(rules_, p_, module);
  if (const auto f = ra.never_true(id)) {
    const std::string text(rules_.sources.file(f->where.file).slice(f->where));
    sink_.report(diag::W5003, f->where, "condition " + quoted(text) + " can never be true: " + f->reason).help =
        "check the numbers and the comparison direction";
  }
}

void checker::lint_generic_messages() {
  for (const play_info& info : p_.plays) {
    if (!info.signal) continue;
    const signal_info& s = p_.signals[*info.signal];
    const auto& lets = rules_.modules[s.ref.module].signals[s.ref.index].lets;
    auto is_fact = [&](const ast::placeholder& ph) {
      if (ph.path.size() == 2) return p_.signal(ph.path[0].name).has_value();
      return std::any_of(lets.begin(), lets.end(),
                         [&](const ast::let_decl& l) { return l.name.name == ph.path[0].name; });
    };
    const ast::play_decl& decl = rules_.modules[info.ref.module].plays[info.ref.index];
    auto check_parts = [&](const ast::play_body& body) {
      for (const ast::message_part& part : body.parts) {
        if (part.kind != ast::part_kind::why_now) continue;
        for (const ast::localized_text& v : part.variants) {
          if (std::any_of(v.text.placeholders.begin(), v.text.placeholders.end(), is_fact)) continue;
          auto& d = sink_.report(diag::W5001, v.text.where,
                                 "`why_now` names no fact of signal `" + s.name + "`: the message is generic");
          std::string facts;
          for (const ast::let_decl& l : lets) facts += (facts.empty() ? "{" : ", {") + l.name.name + "}";
          d.help = facts.empty() ? "give the signal a fact with `let`, and say it: \"your team grew {growth}\""
                                 : "say what we saw in this account, using " + facts;
        }
      }
    };
    check_parts(decl.body);
    for (const ast::step_decl& step : decl.steps) check_parts(step.body);
  }
}

void checker::lint_uncapped_plays() {
  for (const ast::module& m : rules_.modules) {
    for (const ast::broken_decl& b : m.broken) {
      if (b.keyword == "policy") return;  // the policy did not parse; do not guess
    }
  }
  const ast::policy_decl* pol = p_.policy.present && !rules_.modules[p_.policy.ref.module].policies.empty()
                                    ? &rules_.modules[p_.policy.ref.module].policies[p_.policy.ref.index]
                                    : nullptr;
  for (const play_info& info : p_.plays) {
    std::vector<channel> channels{info.chan};
    for (const step_info& s : info.steps) channels.push_back(s.chan);
    bool covered = pol != nullptr;
    for (const channel c : channels) {
      bool this_one = false;
      if (pol != nullptr) {
        for (const ast::cap_decl& cap : pol->caps) {
          if (cap.scope != ast::cap_scope::account_on_channel ||
              (cap.channel && cap.channel->name == channel_names[static_cast<int>(c)])) {
            this_one = true;
          }
        }
        if ((c == channel::csm_task || c == channel::call) && !pol->capacities.empty()) this_one = true;
      }
      covered = covered && this_one;
    }
    if (covered) continue;
    const ast::play_decl& decl = rules_.modules[info.ref.module].plays[info.ref.index];
    sink_
        .report(
            diag::W5004, decl.name.where,
            "no frequency cap covers play `" + info.name + "`" + (pol == nullptr ? ": the rule set has no policy" : ""))
        .help = pol == nullptr ? "add a policy with caps, e.g. `policy { cap 1 offer per account per 7d }`"
                               : "add a cap for its channel, e.g. `cap 2 per account per channel per 30d`";
  }
}

void checker::lint() {
  for (std::size_t s = 0; s < p_.signals.size(); ++s) {
    const signal_info& info = p_.signals[s];
    const ast::signal_decl& decl = rules_.modules[info.ref.module].signals[info.ref.index];
    for (const ast::expr_id c : decl.conditions) lint_never_true(info.ref.module, c);
    bool referenced = info.used;
    for (const signal_info& other : p_.signals) {
      if (std::find(other.depends_on.begin(), other.depends_on.end(), s) != other.depends_on.end()) referenced = true;
    }
    if (!referenced) {
      sink_.report(diag::W5002, decl.name.where, "signal `" + info.name + "` is used by no play").help =
          "attach a play to it (`play NAME on " + info.name + " { ... }`) or remove it";
    }
  }
  for (const play_info& info : p_.plays) {
    const ast::play_decl& decl = rules_.modules[info.ref.module].plays[info.ref.index];
    for (const ast::expr_id a : decl.audiences) lint_never_true(info.ref.module, a);
    for (const ast::step_decl& step : decl.steps) lint_never_true(info.ref.module, step.condition);
  }
  lint_generic_messages();
  lint_uncapped_plays();
}

}  // namespace nudge::compiler
