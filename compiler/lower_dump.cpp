// `--dump=lowered`: the register code, readable enough to check what the runtime will do.
#include <fmt/format.h>

#include <ostream>

#include "compiler/lower.hpp"

namespace nudge::compiler {
namespace {

constexpr std::string_view op_names[] = {
    "const_i", "const_f", "const_text", "load_field", "window_field", "load_event", "outer", "today", "to_f",
    "neg_i", "neg_f", "abs_i", "abs_f", "add_i", "sub_i", "mul_i", "add_f", "sub_f", "mul_f", "div_f",
    "money_mul", "money_div", "eq_i", "ne_i", "lt_i", "le_i", "gt_i", "ge_i", "eq_f", "ne_f", "lt_f", "le_f",
    "gt_f", "ge_f", "in_i", "in_f", "in_text", "logical_and", "logical_or", "logical_not", "coalesce",
    "present", "days_until", "days_since", "share", "pct_change", "ratio", "window_regs", "event_agg"};
constexpr std::string_view agg_names[] = {"avg", "sum", "min", "max", "count", "most_frequent"};

std::string period(const ir::period_code& p) {
  switch (p.kind) {
    case ir::clock::day: return "calendar day";
    case ir::clock::week: return "calendar week";
    case ir::clock::month: return "calendar month";
    case ir::clock::rolling: break;
  }
  return fmt::format("rolling {}d", p.days);
}

std::string reg_or(std::uint32_t r, std::string_view otherwise) {
  return r == ir::none ? std::string(otherwise) : fmt::format("r{}", r);
}

void dump_policy(std::ostream& out, const ir::module& m) {
  const ir::policy_code& pol = m.policy;
  if (!pol.present) return;
  constexpr std::string_view kinds[] = {"touches", "touches per channel", "touches on", "channels", "same offer"};
  out << "policy: timezone " << pol.timezone << ", csm " << reg_or(pol.csm, "(none)") << "\n";
  for (const ir::cap_code& c : pol.caps) {
    out << fmt::format("  cap {}: {} {}{} per {}\n", c.name, c.count, kinds[static_cast<int>(c.kind)],
                       c.kind == ir::cap_kind::on_channel ? fmt::format(" {}", channel_names[c.channel]) : "",
                       period(c.window));
  }
  for (const ir::quiet_code& q : pol.quiets) {
    std::string exempt;
    for (const std::uint32_t e : q.exempt) exempt += " " + m.plays[e].name;
    out << fmt::format("  quiet {}: {}d before r{} when {}{}{}\n", q.name, q.days, q.date, reg_or(q.when, "(all)"),
                       exempt.empty() ? "" : "; exempt", exempt);
  }
  for (const ir::approval_code& a : pol.approvals) {
    out << fmt::format("  approval when {}, expires after {}d\n", reg_or(a.when, "(all)"), a.expires_days);
  }
  for (const ir::capacity_code& c : pol.capacities) {
    out << fmt::format("  capacity {} csm_task/call per csm per {}\n", c.count, period(c.window));
  }
  for (const ir::holdout_code& h : pol.holdout) {
    out << fmt::format("  holdout {}% salt \"{}\" bands {}\n", h.share * 100, h.salt, reg_or(h.band, "(none)"));
  }
  if (!pol.pilot.empty()) {
    std::string ids;
    for (const std::string& a : pol.pilot) ids += " " + a;
    out << "  pilot" << ids << "\n";
  }
}

std::string operands(const ir::instr& in, const program& p, const ir::module& m, std::int32_t stream) {
  auto reg = [](std::uint32_t r) { return fmt::format("r{}", r); };
  switch (in.code) {
    case ir::op::const_i: return fmt::format("{}", in.i);
    case ir::op::const_f: return fmt::format("{}", in.f);
    case ir::op::const_text: return fmt::format("\"{}\"", m.texts[static_cast<std::size_t>(in.i)]);
    case ir::op::load_field: return fmt::format("{} @{}d", p.schema.fields[in.a].name, in.i);
    case ir::op::window_field:
      return fmt::format("{} {} @{}d..{}d", agg_names[in.b], p.schema.fields[in.a].name, in.i, in.i + in.window - 1);
    case ir::op::load_event: return std::string(p.schema.streams[static_cast<std::size_t>(stream)].fields[in.a].name);
    case ir::op::outer: return "main." + reg(in.a);
    case ir::op::today: return fmt::format("@{}d", in.i);
    case ir::op::days_until:
    case ir::op::days_since: return fmt::format("{} @{}d", reg(in.a), in.i);
    case ir::op::in_i:
    case ir::op::in_text: {
      std::string s;
      for (const std::int64_t v : m.int_sets[in.b]) {
        s += (s.empty() ? "" : ", ") + (in.code == ir::op::in_text ? "\"" + m.texts[static_cast<std::size_t>(v)] + "\""
                                                                   : std::to_string(v));
      }
      return reg(in.a) + " in [" + s + "]";
    }
    case ir::op::in_f: {
      std::string s;
      for (const double v : m.float_sets[in.b]) s += (s.empty() ? "" : ", ") + fmt::format("{}", v);
      return reg(in.a) + " in [" + s + "]";
    }
    case ir::op::window_regs: {
      std::string s;
      for (const std::int64_t r : m.int_sets[in.sub]) s += (s.empty() ? "" : " ") + reg(static_cast<std::uint32_t>(r));
      return fmt::format("{} [{}]", agg_names[in.b], s);
    }
    case ir::op::event_agg: {
      const stream_info& st = p.schema.streams[in.a];
      std::string what = st.name + (in.c != ir::none ? "." + st.fields[in.c].name : "");
      return fmt::format("{} {} @{}d..{}d{}", agg_names[in.b], what, in.i, in.i + in.window - 1,
                         in.sub != ir::none ? fmt::format(" where events#{}", in.sub) : "");
    }
    default: break;
  }
  std::string s = reg(in.a);
  if (in.b != ir::none) s += ", " + reg(in.b);
  return s;
}

void dump_program(std::ostream& out, const rule_set& rules, const program& p, const ir::module& m,
                  const ir::program& pr, std::string_view title) {
  out << title << " (" << pr.registers.size() << " registers)\n";
  for (const ir::instr& in : pr.code) {
    const source_file& f = rules.sources.file(in.where.file);
    const line_col at = f.position(in.where.begin);
    out << fmt::format("  r{:<3} {} = {:<12} {:<40} # {}:{}\n", in.dst, in.out == ir::rep::f64 ? "f64" : "i64",
                       op_names[static_cast<int>(in.code)], operands(in, p, m, pr.stream), at.line, at.column);
  }
}

}  // namespace

void dump_lowered(std::ostream& out, const rule_set& rules, const program& checked, const ir::module& m) {
  out << "lookback " << m.lookback << "d\n";
  for (const ir::field_need& f : m.fields) {
    std::string offs;
    for (const std::int32_t o : f.offsets) offs += (offs.empty() ? "" : " ") + std::to_string(o);
    out << "reads " << checked.schema.fields[f.field].name << " @ " << offs << "\n";
  }
  for (const ir::stream_need& s : m.streams) {
    std::string fields;
    for (const std::uint32_t f : s.fields) fields += " " + checked.schema.streams[s.stream].fields[f].name;
    out << "reads events " << checked.schema.streams[s.stream].name << " back to " << s.max_back << "d:" << fields << "\n";
  }
  dump_program(out, rules, checked, m, m.main, "main");
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    dump_program(out, rules, checked, m, m.events[i],
                 fmt::format("events#{} over {}", i, checked.schema.streams[static_cast<std::size_t>(m.events[i].stream)].name));
  }
  for (const ir::signal_code& s : m.signals) {
    std::string facts;
    const signal_info& info = checked.signals[*checked.signal(s.name)];
    const auto& lets = rules.modules[info.ref.module].signals[info.ref.index].lets;
    for (std::size_t i = 0; i < s.facts.size(); ++i) facts += fmt::format(" {}=r{}", lets[i].name.name, s.facts[i].reg);
    out << fmt::format("signal {}: when=r{}{}\n", s.name, s.when, facts);
  }
  for (const ir::play_code& p : m.plays) {
    std::string audience;
    for (const std::uint32_t a : p.audience) audience += fmt::format(" r{}", a);
    std::string steps;
    for (const ir::step_code& st : p.steps) steps += fmt::format(" {}=r{}", st.name, st.when);
    out << fmt::format("play {} on {}: audience{}{}{}{}\n", p.name, m.signals[p.signal].name,
                       audience.empty() ? " (all)" : audience, steps.empty() ? "" : "; steps", steps,
                       !p.defer            ? ""
                       : p.defer_days == 0 ? "; if capped: defer"
                                           : fmt::format("; if capped: defer up to {}d", p.defer_days));
  }
  dump_policy(out, m);
}

}  // namespace nudge::compiler
