#include "runtime/eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nudge::runtime {
namespace {

using ir::op;

// Absent and unknown both make a result not present; unknown wins, since it says less.
inline std::uint8_t combine(std::uint8_t a, std::uint8_t b) { return a > b ? a : b; }

std::int64_t round_half_away(double x) { return static_cast<std::int64_t>(x < 0 ? std::ceil(x - 0.5) : std::floor(x + 0.5)); }

// Round-half-away integer division for money averages.
std::int64_t div_round(std::int64_t sum, std::int64_t n) {
  const std::int64_t q = sum / n;
  const std::int64_t r = sum % n;
  if (2 * (r < 0 ? -r : r) >= n) return q + (sum < 0 ? -1 : 1);
  return q;
}

// Accumulates values of one window or event range.
struct accumulator {
  ir::agg kind;
  bool floating;
  std::int64_t n = 0;
  std::int64_t isum = 0;
  double fsum = 0;
  std::int64_t imin = std::numeric_limits<std::int64_t>::max();
  std::int64_t imax = std::numeric_limits<std::int64_t>::min();
  double fmin = std::numeric_limits<double>::infinity();
  double fmax = -std::numeric_limits<double>::infinity();

  void add_i(std::int64_t v) {
    ++n;
    isum += v;
    imin = std::min(imin, v);
    imax = std::max(imax, v);
  }
  void add_f(double v) {
    ++n;
    fsum += v;
    fmin = std::min(fmin, v);
    fmax = std::max(fmax, v);
  }
  // Writes the result of account k into a register's storage.
  void store(bool out_floating, std::int64_t* oi, double* of, std::uint8_t* os, std::size_t k) const {
    std::int64_t i = 0;
    double f = 0;
    finish(out_floating, i, f, os[k]);
    if (out_floating) of[k] = f;
    else oi[k] = i;
  }
  // Writes the result; `out_floating` is the register's representation.
  void finish(bool out_floating, std::int64_t& oi, double& of, std::uint8_t& os) const {
    if (kind == ir::agg::count) {
      oi = n;
      os = ir::present;
      return;
    }
    if (n == 0) {
      if (kind == ir::agg::sum) {
        oi = 0;
        of = 0;
        os = ir::present;
      } else {
        os = ir::unknown;
      }
      return;
    }
    os = ir::present;
    switch (kind) {
      case ir::agg::sum:
        if (out_floating) of = floating ? fsum : static_cast<double>(isum);
        else oi = isum;
        break;
      case ir::agg::avg:
        if (out_floating) of = floating ? fsum / static_cast<double>(n) : static_cast<double>(isum) / static_cast<double>(n);
        else oi = div_round(isum, n);
        break;
      case ir::agg::min:
        if (out_floating) of = floating ? fmin : static_cast<double>(imin);
        else oi = imin;
        break;
      case ir::agg::max:
        if (out_floating) of = floating ? fmax : static_cast<double>(imax);
        else oi = imax;
        break;
      default: break;
    }
  }
};

}  // namespace

// A result that is present where its operand is, and unknown where it is absent or unknown.
void evaluator::present_state(const std::uint8_t* as, std::uint8_t* ds, reg& d, const std::uint8_t* all, std::size_t n) {
  if (as == all) {
    d.ps = all;
    return;
  }
  for (std::size_t k = 0; k < n; ++k) ds[k] = as[k] == ir::present ? ir::present : ir::unknown;
}

std::vector<std::uint32_t> bind_texts(const ir::module& m, dataset& data) {
  std::vector<std::uint32_t> ids;
  for (const std::string& t : m.texts) ids.push_back(data.strings.intern(t));
  return ids;
}

evaluator::evaluator(const ir::module& m, const dataset& data, std::vector<std::uint32_t> texts)
    : m_(m), data_(data), texts_(std::move(texts)) {
  std::uint32_t max_field = 0;
  for (const field_slots& f : data.fields) max_field = std::max(max_field, f.field + 1);
  field_columns_.resize(max_field);
  column_dense_.resize(max_field);
  for (const field_slots& f : data.fields) {
    auto& by_offset = field_columns_[f.field];
    by_offset.assign(static_cast<std::size_t>(m.lookback + 1), nullptr);
    auto& dense = column_dense_[f.field];
    dense.assign(static_cast<std::size_t>(m.lookback + 1), false);
    for (std::size_t s = 0; s < f.offsets.size(); ++s) {
      const auto offset = static_cast<std::size_t>(f.offsets[s]);
      by_offset[offset] = &f.columns[s];
      const auto& st = f.columns[s].state;
      // A column without a missing value can share the all-present state: the operations
      // on it then skip their per-account state pass.
      dense[offset] = std::all_of(st.begin(), st.end(), [](std::uint8_t x) { return x == ir::present; });
    }
  }
  std::uint32_t max_stream = 0;
  for (const event_table& t : data.streams) max_stream = std::max(max_stream, t.stream + 1);
  stream_slot_.assign(max_stream, -1);
  for (std::size_t s = 0; s < data.streams.size(); ++s) stream_slot_[data.streams[s].stream] = static_cast<int>(s);
  regs_.resize(m.main.registers.size());
  event_regs_.resize(m.events.size());
  text_sets_.resize(m.int_sets.size());
  for (const ir::program* prog : {&m.main}) {
    for (const ir::instr& in : prog->code) {
      if (in.code != op::in_text) continue;
      for (const std::int64_t v : m.int_sets[in.b]) text_sets_[in.b].push_back(texts_[static_cast<std::size_t>(v)]);
    }
  }
  for (const ir::program& prog : m.events) {
    for (const ir::instr& in : prog.code) {
      if (in.code != op::in_text) continue;
      text_sets_[in.b].clear();
      for (const std::int64_t v : m.int_sets[in.b]) text_sets_[in.b].push_back(texts_[static_cast<std::size_t>(v)]);
    }
  }
}

value evaluator::get(std::uint32_t r, std::size_t k) const {
  const reg& x = regs_[r];
  value v;
  v.state = x.ps[k];
  if (m_.main.registers[r] == ir::rep::i64) v.i = x.pi[k];
  else v.f = x.pf[k];
  return v;
}

std::size_t evaluator::count_holding(std::uint32_t r) const {
  const reg& x = regs_[r];
  std::size_t count = 0;
  for (std::size_t k = 0; k < end_ - begin_; ++k) count += (x.ps[k] == ir::present) & (x.pi[k] != 0);
  return count;
}

void evaluator::run(std::size_t begin, std::size_t end) {
  begin_ = begin;
  end_ = end;
  exec(m_.main, regs_, end - begin, false, 0);
}

void evaluator::run_event_program(std::uint32_t sub, std::size_t stream_slot) {
  const ir::program& prog = m_.events[sub];
  const event_table& t = data_.streams[stream_slot];
  const std::size_t first = t.begin[begin_];
  const std::size_t n = t.begin[end_] - first;
  event_account_.resize(n);
  for (std::size_t k = 0; k < end_ - begin_; ++k) {
    for (std::size_t e = t.begin[begin_ + k]; e < t.begin[begin_ + k + 1]; ++e) {
      event_account_[e - first] = static_cast<std::uint32_t>(k);
    }
  }
  std::vector<reg>& regs = event_regs_[sub];
  regs.resize(prog.registers.size());
  exec(prog, regs, n, true, stream_slot);
}

void evaluator::exec(const ir::program& prog, std::vector<reg>& regs, std::size_t n, bool events,
                     std::size_t stream_slot) {
  for (std::size_t r = 0; r < prog.registers.size(); ++r) {
    reg& x = regs[r];
    if (x.s.size() < n) {
      x.s.resize(n);
      if (prog.registers[r] == ir::rep::i64) x.i.resize(n);
      else x.f.resize(n);
      x.filled = 0;
    }
  }
  // Main and event programs keep separate all-present arrays: an event program may need a
  // longer one, and growing the main one would leave main registers pointing at freed memory.
  std::vector<std::uint8_t>& all_vec = events ? event_all_present_ : all_present_;
  if (all_vec.size() < n) all_vec.assign(n, ir::present);
  const std::uint8_t* all = all_vec.data();
  const day_number as_of = data_.as_of;
  for (const ir::instr& in : prog.code) {
    reg& d = regs[in.dst];
    std::uint8_t* ds = d.s.data();
    // By default a result lives in the register's own storage; loads point into the data
    // instead, and a result known to be present points at a shared all-present state.
    d.pi = d.i.data();
    d.pf = d.f.data();
    d.ps = ds;
    switch (in.code) {
      case op::const_i:
      case op::const_text: {
        const std::int64_t v = in.code == op::const_text ? texts_[static_cast<std::size_t>(in.i)] : in.i;
        if (d.filled < n) {
          std::fill_n(d.i.data(), n, v);
          d.filled = n;
        }
        d.ps = all;
        break;
      }
      case op::const_f:
        if (d.filled < n) {
          std::fill_n(d.f.data(), n, in.f);
          d.filled = n;
        }
        d.ps = all;
        break;
      case op::today:
        std::fill_n(d.i.data(), n, static_cast<std::int64_t>(as_of) - in.i);
        d.ps = all;
        break;
      case op::load_field: {
        const slot_column* c = field_columns_[in.a][static_cast<std::size_t>(in.i)];
        d.ps = column_dense_[in.a][static_cast<std::size_t>(in.i)] ? all : c->state.data() + begin_;
        if (in.out == ir::rep::i64) d.pi = c->i.data() + begin_;
        else d.pf = c->f.data() + begin_;
        break;
      }
      case op::window_field: {
        const auto& cols = field_columns_[in.a];
        const bool floating = in.in == ir::rep::f64;
        const bool out_f = in.out == ir::rep::f64;
        const auto kind = static_cast<ir::agg>(in.b);
        if (kind == ir::agg::avg || kind == ir::agg::sum) {
          // Day by day over the whole batch: sequential reads, no per-account state.
          window_sum_.assign(n, 0.0);
          window_isum_.assign(n, 0);
          window_n_.assign(n, 0);
          for (std::int64_t day = in.i; day < in.i + in.window; ++day) {
            const slot_column* c = cols[static_cast<std::size_t>(day)];
            const std::uint8_t* st = c->state.data() + begin_;
            auto add_day = [&](const auto* v, auto& sums) {
              for (std::size_t k = 0; k < n; ++k) {
                const bool p = st[k] == ir::present;
                sums[k] += p ? v[k] : 0;
                window_n_[k] += p ? 1 : 0;
              }
            };
            if (floating) add_day(c->f.data() + begin_, window_sum_);
            else add_day(c->i.data() + begin_, window_isum_);
          }
          for (std::size_t k = 0; k < n; ++k) {
            const std::int64_t count = window_n_[k];
            if (count == 0 && kind == ir::agg::avg) {
              ds[k] = ir::unknown;
              continue;
            }
            ds[k] = ir::present;
            if (out_f) {
              const double total = floating ? window_sum_[k] : static_cast<double>(window_isum_[k]);
              d.f[k] = kind == ir::agg::sum ? total : total / static_cast<double>(count);
            } else {
              d.i[k] = kind == ir::agg::sum ? window_isum_[k] : div_round(window_isum_[k], count);
            }
          }
          break;
        }
        for (std::size_t k = 0; k < n; ++k) {
          accumulator acc{static_cast<ir::agg>(in.b), floating};
          for (std::int64_t day = in.i; day < in.i + in.window; ++day) {
            const slot_column* c = cols[static_cast<std::size_t>(day)];
            if (c->state[begin_ + k] != ir::present) continue;
            if (floating) acc.add_f(c->f[begin_ + k]);
            else acc.add_i(c->i[begin_ + k]);
          }
          acc.store(out_f, d.i.data(), d.f.data(), ds, k);
        }
        break;
      }
      case op::window_regs: {
        const auto& list = m_.int_sets[in.sub];
        const bool floating = in.in == ir::rep::f64;
        const bool out_f = in.out == ir::rep::f64;
        for (std::size_t k = 0; k < n; ++k) {
          accumulator acc{static_cast<ir::agg>(in.b), floating};
          for (const std::int64_t r : list) {
            const reg& x = regs[static_cast<std::size_t>(r)];
            if (x.ps[k] != ir::present) continue;
            if (floating) acc.add_f(x.pf[k]);
            else acc.add_i(x.pi[k]);
          }
          acc.store(out_f, d.i.data(), d.f.data(), ds, k);
        }
        break;
      }
      case op::load_event: {
        const event_table& t = data_.streams[stream_slot];
        const std::size_t first = t.begin[begin_];
        d.ps = t.state[in.a].data() + first;
        if (in.out == ir::rep::i64) d.pi = t.i[in.a].data() + first;
        else d.pf = t.f[in.a].data() + first;
        break;
      }
      case op::outer: {
        const reg& src = regs_[in.a];
        for (std::size_t e = 0; e < n; ++e) {
          const std::uint32_t k = event_account_[e];
          ds[e] = src.ps[k];
          if (in.out == ir::rep::i64) d.i[e] = src.pi[k];
          else d.f[e] = src.pf[k];
        }
        break;
      }
      case op::event_agg: event_aggregate(in, d, n); break;
      default: {
        const reg& a = regs[in.a];
        const reg* b = in.b != ir::none && in.code != op::in_i && in.code != op::in_f && in.code != op::in_text
                           ? &regs[in.b]
                           : nullptr;
        const std::uint8_t* as = a.ps;
        auto unary_state = [&] { d.ps = as; };
        auto binary_state = [&] {
          if (as == all && b->ps == all) {
            std::copy_n(all, n, ds);  // may still turn unknown below (division by zero)
            return;
          }
          for (std::size_t k = 0; k < n; ++k) ds[k] = combine(as[k], b->ps[k]);
        };
        // Three-valued `and` (dominant = false) and `or` (dominant = true): a present dominant
        // value decides the result whatever the other side is; otherwise unknown wins.
        auto kleene = [&](bool dominant) {
          const std::int64_t win = dominant ? 1 : 0;
          if (as == all && b->ps == all) {
            d.ps = all;
            for (std::size_t k = 0; k < n; ++k) d.i[k] = dominant ? (a.pi[k] | b->pi[k]) : (a.pi[k] & b->pi[k]);
            return;
          }
          for (std::size_t k = 0; k < n; ++k) {
            const bool ad = as[k] == ir::present && (a.pi[k] != 0) == dominant;
            const bool bd = b->ps[k] == ir::present && (b->pi[k] != 0) == dominant;
            if (ad || bd) {
              ds[k] = ir::present;
              d.i[k] = win;
            } else {
              ds[k] = as[k] == ir::present && b->ps[k] == ir::present ? ir::present : ir::unknown;
              d.i[k] = 1 - win;
            }
          }
        };
        // For operations that never add unknowns: share the inputs' all-present state.
        auto pure_binary_state = [&] {
          if (as == all && b->ps == all) {
            d.ps = all;
            return;
          }
          for (std::size_t k = 0; k < n; ++k) ds[k] = combine(as[k], b->ps[k]);
        };
        switch (in.code) {
          case op::to_f:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.f[k] = static_cast<double>(a.pi[k]);
            break;
          case op::neg_i: unary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = -a.pi[k]; break;
          case op::neg_f: unary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = -a.pf[k]; break;
          case op::abs_i: unary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] < 0 ? -a.pi[k] : a.pi[k]; break;
          case op::abs_f: unary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = std::fabs(a.pf[k]); break;
          case op::add_i: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] + b->pi[k]; break;
          case op::sub_i: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] - b->pi[k]; break;
          case op::mul_i: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] * b->pi[k]; break;
          case op::add_f: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.pf[k] + b->pf[k]; break;
          case op::sub_f: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.pf[k] - b->pf[k]; break;
          case op::mul_f: pure_binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.pf[k] * b->pf[k]; break;
          case op::div_f:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->pf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->pf[k] != 0 ? a.pf[k] / b->pf[k] : 0;
            }
            break;
          case op::ratio:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->pi[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->pi[k] != 0 ? static_cast<double>(a.pi[k]) / static_cast<double>(b->pi[k]) : 0;
            }
            break;
          case op::money_mul:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = round_half_away(static_cast<double>(a.pi[k]) * b->pf[k]);
            break;
          case op::money_div:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->pf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.i[k] = b->pf[k] != 0 ? round_half_away(static_cast<double>(a.pi[k]) / b->pf[k]) : 0;
            }
            break;
#define NUDGE_CMP(OP, FIELD, EXPR)                                                              \
  case op::OP:                                                                                  \
    if (as == all && b->ps == all) {                                                            \
      d.ps = all;                                                                               \
    } else {                                                                                    \
      for (std::size_t k = 0; k < n; ++k) {                                                     \
        ds[k] = as[k] == ir::present && b->ps[k] == ir::present ? ir::present : ir::unknown;    \
      }                                                                                         \
    }                                                                                           \
    for (std::size_t k = 0; k < n; ++k) d.i[k] = (a.FIELD[k] EXPR b->FIELD[k]) ? 1 : 0;         \
    break;
          NUDGE_CMP(eq_i, pi, ==)
          NUDGE_CMP(ne_i, pi, !=)
          NUDGE_CMP(lt_i, pi, <)
          NUDGE_CMP(le_i, pi, <=)
          NUDGE_CMP(gt_i, pi, >)
          NUDGE_CMP(ge_i, pi, >=)
          NUDGE_CMP(eq_f, pf, ==)
          NUDGE_CMP(ne_f, pf, !=)
          NUDGE_CMP(lt_f, pf, <)
          NUDGE_CMP(le_f, pf, <=)
          NUDGE_CMP(gt_f, pf, >)
          NUDGE_CMP(ge_f, pf, >=)
#undef NUDGE_CMP
          case op::in_i:
          case op::in_text: {
            const std::vector<std::int64_t>& set = in.code == op::in_text ? text_sets_[in.b] : m_.int_sets[in.b];
            present_state(as, ds, d, all, n);
            // Element by element of the (small) set: each pass is a plain vectorisable loop.
            std::fill_n(d.i.data(), n, 0);
            for (const std::int64_t v : set) {
              for (std::size_t k = 0; k < n; ++k) d.i[k] |= a.pi[k] == v ? 1 : 0;
            }
            break;
          }
          case op::in_f: {
            const auto& set = m_.float_sets[in.b];
            present_state(as, ds, d, all, n);
            std::fill_n(d.i.data(), n, 0);
            for (const double v : set) {
              for (std::size_t k = 0; k < n; ++k) d.i[k] |= a.pf[k] == v ? 1 : 0;
            }
            break;
          }
          case op::logical_and: kleene(false); break;
          case op::logical_or: kleene(true); break;
          case op::logical_not:
            present_state(as, ds, d, all, n);
            for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] == 0 ? 1 : 0;
            break;
          case op::coalesce:
            for (std::size_t k = 0; k < n; ++k) {
              const bool use_a = as[k] == ir::present;
              ds[k] = use_a ? static_cast<std::uint8_t>(ir::present) : b->ps[k];
              if (in.out == ir::rep::i64) d.i[k] = use_a ? a.pi[k] : b->pi[k];
              else d.f[k] = use_a ? a.pf[k] : b->pf[k];
            }
            break;
          case op::present:
            d.ps = all;
            for (std::size_t k = 0; k < n; ++k) d.i[k] = as[k] == ir::present ? 1 : 0;
            break;
          case op::days_until:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = a.pi[k] - (static_cast<std::int64_t>(as_of) - in.i);
            break;
          case op::days_since:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = (static_cast<std::int64_t>(as_of) - in.i) - a.pi[k];
            break;
          case op::share:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->pf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->pf[k] != 0 ? std::clamp(a.pf[k] / b->pf[k], 0.0, 1.0) : 0;
            }
            break;
          case op::pct_change:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->pf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->pf[k] != 0 ? (a.pf[k] - b->pf[k]) / std::fabs(b->pf[k]) : 0;
            }
            break;
          default: break;
        }
      }
    }
  }
}

void evaluator::event_aggregate(const ir::instr& in, reg& out, std::size_t n) {
  const int slot = in.a < stream_slot_.size() ? stream_slot_[in.a] : -1;
  const event_table& t = data_.streams[static_cast<std::size_t>(slot)];
  if (in.sub != ir::none) run_event_program(in.sub, static_cast<std::size_t>(slot));
  const std::uint32_t pred = in.sub != ir::none ? m_.events[in.sub].code.back().dst : ir::none;
  const std::size_t first = t.begin[begin_];
  const day_number newest = static_cast<day_number>(data_.as_of - in.i);
  const day_number oldest = static_cast<day_number>(newest - in.window + 1);
  const auto kind = static_cast<ir::agg>(in.b);
  const bool floating = in.in == ir::rep::f64;
  const bool out_f = in.out == ir::rep::f64;
  std::vector<std::pair<std::int64_t, std::int64_t>> freq;  // value, count
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t a = begin_ + k;
    // Accounts have few events each: a linear scan beats a binary search.
    auto lo = t.day.begin() + t.begin[a];
    auto hi = t.day.begin() + t.begin[a + 1];
    while (lo != hi && *lo < oldest) ++lo;
    auto end = lo;
    while (end != hi && *end <= newest) ++end;
    hi = end;
    if (kind == ir::agg::count && pred == ir::none) {
      out.s[k] = ir::present;
      out.i[k] = hi - lo;
      continue;
    }
    const auto from = static_cast<std::size_t>(lo - t.day.begin());
    const auto to = static_cast<std::size_t>(hi - t.day.begin());
    if (kind == ir::agg::count) {
      // Counting matches of a `where`: no accumulator, one test per event.
      const reg& p = event_regs_[in.sub][pred];
      std::int64_t count = 0;
      for (std::size_t e = from; e < to; ++e) count += (p.ps[e - first] == ir::present) & (p.pi[e - first] != 0);
      out.s[k] = ir::present;
      out.i[k] = count;
      continue;
    }
    if ((kind == ir::agg::sum || kind == ir::agg::avg) && pred == ir::none && floating && out_f) {
      // Sums and averages of a number field, the common case (reply hours...).
      const double* v = t.f[in.c].data();
      const std::uint8_t* st = t.state[in.c].data();
      double sum = 0;
      std::int64_t count = 0;
      for (std::size_t e = from; e < to; ++e) {
        const bool present = st[e] == ir::present;
        sum += present ? v[e] : 0.0;
        count += present ? 1 : 0;
      }
      if (count == 0 && kind == ir::agg::avg) {
        out.s[k] = ir::unknown;
        continue;
      }
      out.s[k] = ir::present;
      out.f[k] = kind == ir::agg::sum ? sum : sum / static_cast<double>(count);
      continue;
    }
    accumulator acc{kind, floating};
    freq.clear();
    for (auto it = lo; it != hi; ++it) {
      const auto e = static_cast<std::size_t>(it - t.day.begin());
      if (pred != ir::none) {
        const reg& p = event_regs_[in.sub][pred];
        if (p.ps[e - first] != ir::present || p.pi[e - first] == 0) continue;
      }
      if (kind == ir::agg::count) {
        ++acc.n;
        continue;
      }
      if (t.state[in.c][e] != ir::present) continue;
      if (kind == ir::agg::most_frequent) {
        const std::int64_t v = t.i[in.c][e];
        auto f = std::find_if(freq.begin(), freq.end(), [&](const auto& x) { return x.first == v; });
        if (f == freq.end()) freq.emplace_back(v, 1);
        else ++f->second;
      } else if (floating) {
        acc.add_f(t.f[in.c][e]);
      } else {
        acc.add_i(t.i[in.c][e]);
      }
    }
    if (kind == ir::agg::most_frequent) {
      if (freq.empty()) {
        out.s[k] = ir::unknown;
        continue;
      }
      // The most common value; a tie goes to the smallest (texts by their strings).
      auto smaller = [&](std::int64_t x, std::int64_t y) {
        return in.text ? data_.strings.at(static_cast<std::uint32_t>(x)) < data_.strings.at(static_cast<std::uint32_t>(y))
                       : x < y;
      };
      auto best = freq.begin();
      for (auto f = freq.begin() + 1; f != freq.end(); ++f) {
        if (f->second > best->second || (f->second == best->second && smaller(f->first, best->first))) best = f;
      }
      out.s[k] = ir::present;
      out.i[k] = best->first;
      continue;
    }
    std::int64_t oi = 0;
    double of = 0;
    acc.finish(out_f, oi, of, out.s[k]);
    if (out_f) out.f[k] = of;
    else out.i[k] = oi;
  }
}

}  // namespace nudge::runtime
