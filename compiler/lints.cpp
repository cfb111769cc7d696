// Warnings: rules that check but are likely wrong. A generic message (why_now with no fact),
// a signal nobody uses, a condition that can never be true, a play no cap covers, plays
// tied in priority, a play or step that can never be sent. Notes: which play wins when
// plays collide.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

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

namespace {

// What an audience says about enum fields: field -> the variants it allows. `opaque` when
// some condition is not of the form `field == v`, `field != v`, `field [not] in [...]`
// (joined by `and`): then the audience may exclude more than the sets say.
struct audience_sets {
  std::map<std::uint32_t, std::set<std::uint32_t>> allowed;
  bool opaque = false;
};

class audience_reader {
 public:
  audience_reader(const rule_set& rules, const program& p, std::uint32_t module) : rules_(rules), p_(p), module_(module) {}

  void read(ast::expr_id id, audience_sets& out) const {
    const ast::expr& e = rules_.modules[module_].at(id);
    if (const auto* b = std::get_if<ast::binary>(&e.kind)) {
      if (b->op == ast::binary_op::logical_and) {
        read(b->lhs, out);
        read(b->rhs, out);
        return;
      }
      if (b->op == ast::binary_op::eq || b->op == ast::binary_op::ne) {
        const auto f = field(b->lhs);
        const auto v = variant(b->rhs);
        if (f && v && v->first == f->second) {
          std::set<std::uint32_t> vs{v->second};
          restrict(out, f->first, f->second, vs, b->op == ast::binary_op::ne);
          return;
        }
      }
    }
    if (const auto* in = std::get_if<ast::in_list>(&e.kind)) {
      const auto f = field(in->value);
      std::set<std::uint32_t> vs;
      bool ok = f.has_value();
      for (const ast::expr_id item : in->items) {
        const auto v = variant(item);
        ok = ok && v && v->first == f->second;
        if (ok) vs.insert(v->second);
      }
      if (ok) {
        restrict(out, f->first, f->second, vs, in->negated);
        return;
      }
    }
    out.opaque = true;
  }

 private:
  // The schema field an expression names, with its enum's index.
  std::optional<std::pair<std::uint32_t, std::uint32_t>> field(ast::expr_id id) const {
    const symbol& s = p_.tables[module_].symbols[ast::index(id)];
    if (s.what != symbol::of::field || s.a >= p_.schema.fields.size()) return std::nullopt;
    const type& t = p_.schema.fields[s.a].t;
    if (t.k != kind::enum_) return std::nullopt;
    return std::pair{s.a, static_cast<std::uint32_t>(t.ref)};
  }
  std::optional<std::pair<std::uint32_t, std::uint32_t>> variant(ast::expr_id id) const {
    const symbol& s = p_.tables[module_].symbols[ast::index(id)];
    if (s.what != symbol::of::variant) return std::nullopt;
    return std::pair{s.a, s.b};
  }
  void restrict(audience_sets& out, std::uint32_t f, std::uint32_t e, const std::set<std::uint32_t>& vs,
                bool negated) const {
    std::set<std::uint32_t> now;
    for (std::uint32_t v = 0; v < p_.schema.enums[e].variants.size(); ++v) {
      if (vs.contains(v) != negated) now.insert(v);
    }
    auto [it, fresh] = out.allowed.emplace(f, now);
    if (fresh) return;
    std::set<std::uint32_t> both;
    std::set_intersection(it->second.begin(), it->second.end(), now.begin(), now.end(), std::inserter(both, both.end()));
    it->second = std::move(both);
  }

  const rule_set& rules_;
  const program& p_;
  std::uint32_t module_;
};

// No account can be in both audiences.
bool disjoint(const audience_sets& a, const audience_sets& b) {
  for (const auto& [f, vs] : a.allowed) {
    if (vs.empty()) return true;
    const auto it = b.allowed.find(f);
    if (it == b.allowed.end()) continue;
    if (std::none_of(vs.begin(), vs.end(), [&](std::uint32_t v) { return it->second.contains(v); })) return true;
  }
  return false;
}

// Every account in `inner` is in `outer`.
bool covers(const audience_sets& outer, const audience_sets& inner) {
  if (outer.opaque) return false;
  for (const auto& [f, vs] : outer.allowed) {
    const auto it = inner.allowed.find(f);
    if (it == inner.allowed.end()) return false;
    if (!std::includes(vs.begin(), vs.end(), it->second.begin(), it->second.end())) return false;
  }
  return true;
}

}  // namespace

// Which plays can fire for one account on one night, and which wins arbitration (highest
// priority, ties by name): a note per play that can lose (N5008), a warning for ties
// (W5006), and a warning for a play that always loses (W5007). Signals are assumed able to
// fire together unless the plays' audiences exclude each other on an enum field.
void checker::lint_collisions() {
  struct view {
    const play_info* info;
    const ast::play_decl* decl;
    audience_sets audience;
    std::int64_t priority;
  };
  std::vector<view> plays;
  for (const play_info& info : p_.plays) {
    if (!info.signal) continue;
    const ast::play_decl& decl = rules_.modules[info.ref.module].plays[info.ref.index];
    view v{&info, &decl, {}, info.priority};
    const audience_reader reader(rules_, p_, info.ref.module);
    for (const ast::expr_id a : decl.audiences) reader.read(a, v.audience);
    for (const step_info& st : info.steps) v.priority = std::max(v.priority, st.priority);
    plays.push_back(std::move(v));
  }
  auto wins = [](const view& a, const view& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.info->name < b.info->name;
  };
  for (const view& loser : plays) {
    const view* always = nullptr;
    for (const view& other : plays) {
      if (&other != &loser && wins(other, loser) && other.info->signal == loser.info->signal &&
          other.info->steps.empty() && covers(other.audience, loser.audience)) {
        always = &other;
        break;
      }
    }
    if (always != nullptr) {
      auto& d = sink_.report(diag::W5007, loser.decl->name.where,
                             "play `" + loser.info->name + "` can never be sent: whenever it fires, `" +
                                 always->info->name + "` fires too (same signal, an audience that includes this one's) "
                                 "and wins arbitration with priority " + std::to_string(always->priority) +
                                 (always->priority == loser.priority ? " (a tie, won by name)" : ""));
      d.notes.push_back({always->decl->name.where, "`" + always->info->name + "` is here"});
      d.help = "narrow `" + always->info->name + "`'s audience, or give `" + loser.info->name +
               "` a higher priority, or remove it";
      continue;
    }
    std::vector<const view*> beaten_by;
    std::vector<const view*> tied;  // same priority, a name that sorts first
    for (const view& other : plays) {
      if (&other == &loser || disjoint(loser.audience, other.audience) || !wins(other, loser)) continue;
      (other.priority != loser.priority ? beaten_by : tied).push_back(&other);
    }
    const auto by_rank = [&](const view* a, const view* b) { return wins(*a, *b); };
    // One diagnostic per play, naming at most a few others: a rule set of hundreds of plays
    // at one priority would otherwise get a warning per pair (tens of thousands).
    constexpr std::size_t named = 3;
    const auto names = [&](const std::vector<const view*>& vs, bool with_priority) {
      const std::size_t shown = std::min(vs.size(), named);
      std::string list;
      for (std::size_t k = 0; k < shown; ++k) {
        list += k == 0 ? "" : k + 1 == shown && vs.size() == shown ? " and " : ", ";
        list += quoted(vs[k]->info->name);
        if (with_priority) list += " (priority " + std::to_string(vs[k]->priority) + ")";
      }
      if (vs.size() > shown) list += " and " + std::to_string(vs.size() - shown) + " more";
      return list;
    };
    if (!tied.empty()) {
      std::sort(tied.begin(), tied.end(), by_rank);
      const view& first = *tied.front();
      const std::string message =
          tied.size() == 1
              ? "plays `" + first.info->name + "` and `" + loser.info->name +
                    "` can fire for one account on one night with the same priority " + std::to_string(loser.priority) +
                    ": `" + first.info->name + "` wins only because its name sorts first"
              : "play `" + loser.info->name + "` can fire for one account on one night with " + names(tied, false) +
                    ", all with priority " + std::to_string(loser.priority) +
                    ": each of them wins only because its name sorts first";
      auto& d = sink_.report(diag::W5006, loser.decl->name.where, message);
      d.notes.push_back({first.decl->name.where, "`" + first.info->name + "` is here"});
      d.help = "give the play that should win a higher priority";
    }
    if (beaten_by.empty()) continue;
    std::sort(beaten_by.begin(), beaten_by.end(), by_rank);
    const std::string list = names(beaten_by, true);
    auto& d = sink_.report(diag::N5008, loser.decl->name.where,
                           "play `" + loser.info->name + "` (priority " + std::to_string(loser.priority) +
                               ") loses arbitration when it fires for an account on the same night as " + list +
                               "; it is then recorded as suppressed");
    d.help = "if another play should win, change a priority or narrow an audience";
  }
}

// Steps of one play that send the same offer a fixed number of days apart (`when
// days_left == 120`, `== 60`) within the window of a `cap same offer`: the later step is
// blocked by the earlier one's send (W5007).
void checker::lint_capped_steps() {
  if (!p_.policy.present || rules_.modules[p_.policy.ref.module].policies.empty()) return;
  const ast::policy_decl& pol = rules_.modules[p_.policy.ref.module].policies[p_.policy.ref.index];
  const ast::cap_decl* same = nullptr;
  for (const ast::cap_decl& c : pol.caps) {
    if (c.same_offer && c.window.calendar.empty() && (same == nullptr || c.window.days > same->window.days)) same = &c;
  }
  if (same == nullptr) return;
  for (const play_info& info : p_.plays) {
    if (!info.signal || info.steps.size() < 2) continue;
    const ast::play_decl& decl = rules_.modules[info.ref.module].plays[info.ref.index];
    const ast::signal_decl& sig =
        rules_.modules[p_.signals[*info.signal].ref.module].signals[p_.signals[*info.signal].ref.index];
    const ast::module& mod = rules_.modules[info.ref.module];
    // The day a step fires on: `FACT == N` where FACT is a days_until/days_since of the signal.
    struct pinned {
      std::size_t step;
      std::string fact;
      std::int64_t day;  // in days from the date: larger is earlier for days_until
      bool until;
    };
    std::vector<pinned> pins;
    for (std::size_t i = 0; i < decl.steps.size() && i < info.steps.size(); ++i) {
      const auto* b = std::get_if<ast::binary>(&mod.at(decl.steps[i].condition).kind);
      if (b == nullptr || b->op != ast::binary_op::eq) continue;
      const auto* name = std::get_if<ast::name_ref>(&mod.at(b->lhs).kind);
      const auto* lit = std::get_if<ast::int_lit>(&mod.at(b->rhs).kind);
      if (name == nullptr || lit == nullptr) continue;
      for (const ast::let_decl& let : sig.lets) {
        if (let.name.name != name->name.name) continue;
        const auto* c = std::get_if<ast::call>(&rules_.modules[p_.signals[*info.signal].ref.module].at(let.value).kind);
        if (c != nullptr && (c->callee.name == "days_until" || c->callee.name == "days_since")) {
          pins.push_back({i, let.name.name, lit->value, c->callee.name == "days_until"});
        }
      }
    }
    for (const pinned& early : pins) {
      for (const pinned& late : pins) {
        if (early.fact != late.fact || early.step == late.step) continue;
        const std::int64_t gap = early.until ? early.day - late.day : late.day - early.day;
        if (gap <= 0 || gap >= same->window.days) continue;
        const step_info& a = info.steps[early.step];
        const step_info& b = info.steps[late.step];
        if (a.offer_id != b.offer_id) continue;
        auto& d = sink_.report(diag::W5007, decl.steps[late.step].name.where,
                               "step `" + b.name + "` of play `" + info.name + "` can never be sent: it offers `" +
                                   b.offer_id + "` " + std::to_string(gap) + " days after step `" + a.name +
                                   "` sent it, and the same offer is capped for " +
                                   std::to_string(same->window.days) + " days");
        d.notes.push_back({same->where, "the cap is here"});
        d.help = "give step `" + b.name + "` its own `offer_id`";
      }
    }
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
  lint_collisions();
  lint_capped_steps();
}

}  // namespace nudge::compiler
