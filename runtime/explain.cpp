#include "runtime/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "runtime/cells.hpp"
#include "runtime/eval.hpp"
#include "runtime/format.hpp"

namespace nudge::runtime {
namespace {

using ir::op;

bool is_comparison(op code) {
  return (code >= op::eq_i && code <= op::ge_f) || code == op::in_i || code == op::in_f || code == op::in_text;
}

bool reads_data(op code) { return code == op::load_field || code == op::window_field || code == op::event_agg; }

class explainer {
 public:
  explainer(const compiler::rule_set& rules, const compiler::program& p, const ir::module& m, dataset& data,
            std::size_t account)
      : rules_(rules), p_(p), m_(m), data_(data), bound_(bind(m, data)), ev_(m, data, bound_), ctx_{p, data.strings} {
    ev_.run(account, account + 1);
    for (std::size_t i = 0; i < m.main.code.size(); ++i) def_[m.main.code[i].dst] = i;
    locale_ = "en";
    if (!m.locales.empty()) locale_ = m.locales.front();
    if (m.locale_reg != ir::none) {
      const value v = ev_.get(m.locale_reg, 0);
      if (v.state == ir::present) {
        const auto& variants = p.schema.enums[p.schema.fields[static_cast<std::size_t>(m.locale_field)].t.ref].variants;
        const std::string& loc = variants[static_cast<std::size_t>(v.i)];
        if (std::find(m.locales.begin(), m.locales.end(), loc) != m.locales.end()) locale_ = loc;
      }
    }
  }

  std::string run(std::size_t account) {
    out_ += fmt::format("account {} on {} (messages in {})\n", data_.account_ids[account], iso_date(data_.as_of), locale_);
    for (const ir::signal_code& s : m_.signals) signal(s);
    out_ += "\nplays (candidate actions, before the contact policy):\n";
    for (const ir::play_code& pl : m_.plays) play(pl);
    return std::move(out_);
  }

 private:
  std::string text_of(span s) const { return std::string(rules_.sources.file(s.file).slice(s)); }

  std::string yes_no(std::uint32_t reg) const {
    const value v = ev_.get(reg, 0);
    if (v.state == ir::unknown) return "unknown";
    if (v.state == ir::absent) return "absent";
    return v.i != 0 ? "yes" : "no";
  }

  std::string shown(const value& v, const ir::value_ref& how) const {
    if (v.state == ir::unknown) return "unknown";
    if (v.state == ir::absent) return "absent (no value in the data)";
    return format_value(v, how, locale_, ctx_);
  }

  // Instructions the register depends on, in program order.
  std::vector<std::size_t> inputs(std::uint32_t root) const {
    std::set<std::size_t> seen;
    std::vector<std::uint32_t> work{root};
    while (!work.empty()) {
      const std::uint32_t r = work.back();
      work.pop_back();
      const auto it = def_.find(r);
      if (it == def_.end() || !seen.insert(it->second).second) continue;
      const ir::instr& in = m_.main.code[it->second];
      const bool sets = in.code == op::in_i || in.code == op::in_f || in.code == op::in_text;
      if (in.a != ir::none && in.code != op::load_field && in.code != op::window_field && in.code != op::event_agg) {
        work.push_back(in.a);
      }
      if (in.b != ir::none && !sets && in.code != op::window_field && in.code != op::event_agg &&
          in.code != op::window_regs) {
        work.push_back(in.b);
      }
      if (in.code == op::window_regs) {
        for (const std::int64_t x : m_.int_sets[in.sub]) work.push_back(static_cast<std::uint32_t>(x));
      }
      if (in.code == op::event_agg && in.sub != ir::none) {
        for (const ir::instr& e : m_.events[in.sub].code) {
          if (e.code == op::outer) work.push_back(e.a);
        }
      }
    }
    return {seen.begin(), seen.end()};
  }

  std::string missing(const ir::instr& in) const {
    const day_number newest = static_cast<day_number>(data_.as_of - in.i);
    if (in.code == op::load_field) {
      const std::string& name = p_.schema.fields[in.a].name;
      const value v = ev_.get(in.dst, 0);
      if (v.state == ir::absent) return fmt::format("{} on {}: empty in the data", name, iso_date(newest));
      return fmt::format("{} on {} ({} days before the night): no snapshot that day", name, iso_date(newest), in.i);
    }
    const day_number oldest = static_cast<day_number>(newest - in.window + 1);
    if (in.code == op::window_field) {
      return fmt::format("{} from {} to {}: no value in the window", p_.schema.fields[in.a].name, iso_date(oldest),
                         iso_date(newest));
    }
    const compiler::stream_info& st = p_.schema.streams[in.a];
    return fmt::format("{}{} from {} to {}: no matching events", st.name,
                       in.c != ir::none ? "." + st.fields[in.c].name : "", iso_date(oldest), iso_date(newest));
  }

  void signal(const ir::signal_code& s) {
    const compiler::signal_info& info = *std::find_if(p_.signals.begin(), p_.signals.end(),
                                                      [&](const auto& x) { return x.name == s.name; });
    const ast::signal_decl& decl = rules_.modules[info.ref.module].signals[info.ref.index];
    const std::string verdict = s.when == ir::none    ? "no condition"
                                : ev_.holds(s.when, 0) ? "FIRED"
                                : ev_.get(s.when, 0).state != ir::present ? "could not be evaluated"
                                                                          : "not fired";
    const auto title = std::find(m_.locales.begin(), m_.locales.end(), locale_);
    const std::size_t l = title == m_.locales.end() ? 0 : static_cast<std::size_t>(title - m_.locales.begin());
    out_ += fmt::format("\nsignal {} \"{}\": {}\n", s.name, s.titles.empty() ? s.name : s.titles[l], verdict);
    for (std::size_t i = 0; i < s.facts.size(); ++i) {
      out_ += fmt::format("  let {} = {}\n", text_of(decl.lets[i].where).substr(4), shown(ev_.get(s.facts[i].reg, 0), s.facts[i]));
    }
    if (s.when == ir::none) return;
    out_ += fmt::format("  when {}: {}\n", text_of(s.when_where), yes_no(s.when));
    const std::vector<std::size_t> deps = inputs(s.when);
    for (const std::size_t i : deps) {
      const ir::instr& in = m_.main.code[i];
      if (is_comparison(in.code)) out_ += fmt::format("    {}: {}\n", text_of(in.where), yes_no(in.dst));
    }
    if (ev_.get(s.when, 0).state == ir::present) return;
    out_ += "  missing data:\n";
    std::set<std::string> lines;
    for (const std::size_t i : deps) {
      const ir::instr& in = m_.main.code[i];
      if (reads_data(in.code) && ev_.get(in.dst, 0).state != ir::present) lines.insert(missing(in));
    }
    for (const std::string& line : lines) out_ += "    " + line + "\n";
  }

  void play(const ir::play_code& pl) {
    const ir::signal_code& sig = m_.signals[pl.signal];
    std::string why;
    if (sig.when == ir::none || !ev_.holds(sig.when, 0)) {
      why = "no: signal " + sig.name + " did not fire";
    } else {
      for (const std::uint32_t a : pl.audience) {
        if (!ev_.holds(a, 0)) {
          why = "no: audience `" + text_of(m_.main.code[def_.at(a)].where) + "` is " + yes_no(a);
          break;
        }
      }
    }
    const ir::message_code* msg = &pl.message;
    std::string step;
    if (why.empty() && !pl.steps.empty()) {
      msg = nullptr;
      for (const ir::step_code& st : pl.steps) {
        if (ev_.holds(st.when, 0)) {
          msg = &st.message;
          step = " step " + st.name;
          break;
        }
      }
      if (msg == nullptr) why = "no: no step's condition holds";
    }
    if (why.empty()) {
      why = fmt::format("would fire{}: {}, priority {}, offer {}", step, compiler::channel_names[msg->channel],
                        msg->priority, msg->offer_id);
    }
    out_ += fmt::format("  {} (on {}): {}\n", pl.name, sig.name, why);
  }

  const compiler::rule_set& rules_;
  const compiler::program& p_;
  const ir::module& m_;
  dataset& data_;
  bound_rules bound_;
  evaluator ev_;
  format_context ctx_;
  std::map<std::uint32_t, std::size_t> def_;
  std::string locale_;
  std::string out_;
};

}  // namespace

std::optional<std::size_t> find_account(const dataset& data, std::string_view id) {
  // Accounts are sorted by key (load.cpp), so a binary search finds one among millions.
  const std::string key = account_key(id);
  const auto it = std::lower_bound(data.account_keys.begin(), data.account_keys.end(), key);
  if (it == data.account_keys.end() || *it != key) return std::nullopt;
  return static_cast<std::size_t>(it - data.account_keys.begin());
}

std::string explain_account(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                            dataset& data, std::size_t account) {
  return explainer(rules, checked, m, data, account).run(account);
}

}  // namespace nudge::runtime
