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
  for (const field_slots& f : data.fields) {
    auto& by_offset = field_columns_[f.field];
    by_offset.assign(static_cast<std::size_t>(m.lookback + 1), nullptr);
    for (std::size_t s = 0; s < f.offsets.size(); ++s) by_offset[static_cast<std::size_t>(f.offsets[s])] = &f.columns[s];
  }
  std::uint32_t max_stream = 0;
  for (const event_table& t : data.streams) max_stream = std::max(max_stream, t.stream + 1);
  stream_slot_.assign(max_stream, -1);
  for (std::size_t s = 0; s < data.streams.size(); ++s) stream_slot_[data.streams[s].stream] = static_cast<int>(s);
  regs_.resize(m.main.registers.size());
}

value evaluator::get(std::uint32_t r, std::size_t k) const {
  const reg& x = regs_[r];
  value v;
  v.state = x.s[k];
  if (m_.main.registers[r] == ir::rep::i64) v.i = x.i[k];
  else v.f = x.f[k];
  return v;
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
  event_regs_.resize(prog.registers.size());
  exec(prog, event_regs_, n, true, stream_slot);
}

void evaluator::exec(const ir::program& prog, std::vector<reg>& regs, std::size_t n, bool events,
                     std::size_t stream_slot) {
  for (std::size_t r = 0; r < prog.registers.size(); ++r) {
    reg& x = regs[r];
    x.s.resize(n);
    if (prog.registers[r] == ir::rep::i64) x.i.resize(n);
    else x.f.resize(n);
  }
  const day_number as_of = data_.as_of;
  for (const ir::instr& in : prog.code) {
    reg& d = regs[in.dst];
    std::uint8_t* ds = d.s.data();
    switch (in.code) {
      case op::const_i:
      case op::const_text: {
        const std::int64_t v = in.code == op::const_text ? texts_[static_cast<std::size_t>(in.i)] : in.i;
        std::fill_n(d.i.data(), n, v);
        std::fill_n(ds, n, ir::present);
        break;
      }
      case op::const_f:
        std::fill_n(d.f.data(), n, in.f);
        std::fill_n(ds, n, ir::present);
        break;
      case op::today:
        std::fill_n(d.i.data(), n, static_cast<std::int64_t>(as_of) - in.i);
        std::fill_n(ds, n, ir::present);
        break;
      case op::load_field: {
        const slot_column* c = field_columns_[in.a][static_cast<std::size_t>(in.i)];
        std::copy_n(c->state.data() + begin_, n, ds);
        if (in.out == ir::rep::i64) std::copy_n(c->i.data() + begin_, n, d.i.data());
        else std::copy_n(c->f.data() + begin_, n, d.f.data());
        break;
      }
      case op::window_field: {
        const auto& cols = field_columns_[in.a];
        const bool floating = in.in == ir::rep::f64;
        const bool out_f = in.out == ir::rep::f64;
        for (std::size_t k = 0; k < n; ++k) {
          accumulator acc{static_cast<ir::agg>(in.b), floating};
          for (std::int64_t day = in.i; day < in.i + in.window; ++day) {
            const slot_column* c = cols[static_cast<std::size_t>(day)];
            if (c->state[begin_ + k] != ir::present) continue;
            if (floating) acc.add_f(c->f[begin_ + k]);
            else acc.add_i(c->i[begin_ + k]);
          }
          std::int64_t oi = 0;
          double of = 0;
          acc.finish(out_f, oi, of, ds[k]);
          if (out_f) d.f[k] = of;
          else d.i[k] = oi;
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
            if (x.s[k] != ir::present) continue;
            if (floating) acc.add_f(x.f[k]);
            else acc.add_i(x.i[k]);
          }
          std::int64_t oi = 0;
          double of = 0;
          acc.finish(out_f, oi, of, ds[k]);
          if (out_f) d.f[k] = of;
          else d.i[k] = oi;
        }
        break;
      }
      case op::load_event: {
        const event_table& t = data_.streams[stream_slot];
        const std::size_t first = t.begin[begin_];
        std::copy_n(t.state[in.a].data() + first, n, ds);
        if (in.out == ir::rep::i64) std::copy_n(t.i[in.a].data() + first, n, d.i.data());
        else std::copy_n(t.f[in.a].data() + first, n, d.f.data());
        break;
      }
      case op::outer: {
        const reg& src = regs_[in.a];
        for (std::size_t e = 0; e < n; ++e) {
          const std::uint32_t k = event_account_[e];
          ds[e] = src.s[k];
          if (in.out == ir::rep::i64) d.i[e] = src.i[k];
          else d.f[e] = src.f[k];
        }
        break;
      }
      case op::event_agg: event_aggregate(in, d, n); break;
      default: {
        const reg& a = regs[in.a];
        const reg* b = in.b != ir::none && in.code != op::in_i && in.code != op::in_f && in.code != op::in_text
                           ? &regs[in.b]
                           : nullptr;
        const std::uint8_t* as = a.s.data();
        auto unary_state = [&] { std::copy_n(as, n, ds); };
        auto binary_state = [&] {
          for (std::size_t k = 0; k < n; ++k) ds[k] = combine(as[k], b->s[k]);
        };
        switch (in.code) {
          case op::to_f:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.f[k] = static_cast<double>(a.i[k]);
            break;
          case op::neg_i: unary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = -a.i[k]; break;
          case op::neg_f: unary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = -a.f[k]; break;
          case op::abs_i: unary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.i[k] < 0 ? -a.i[k] : a.i[k]; break;
          case op::abs_f: unary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = std::fabs(a.f[k]); break;
          case op::add_i: binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.i[k] + b->i[k]; break;
          case op::sub_i: binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.i[k] - b->i[k]; break;
          case op::mul_i: binary_state(); for (std::size_t k = 0; k < n; ++k) d.i[k] = a.i[k] * b->i[k]; break;
          case op::add_f: binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.f[k] + b->f[k]; break;
          case op::sub_f: binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.f[k] - b->f[k]; break;
          case op::mul_f: binary_state(); for (std::size_t k = 0; k < n; ++k) d.f[k] = a.f[k] * b->f[k]; break;
          case op::div_f:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->f[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->f[k] != 0 ? a.f[k] / b->f[k] : 0;
            }
            break;
          case op::ratio:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->i[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->i[k] != 0 ? static_cast<double>(a.i[k]) / static_cast<double>(b->i[k]) : 0;
            }
            break;
          case op::money_mul:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = round_half_away(static_cast<double>(a.i[k]) * b->f[k]);
            break;
          case op::money_div:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->f[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.i[k] = b->f[k] != 0 ? round_half_away(static_cast<double>(a.i[k]) / b->f[k]) : 0;
            }
            break;
#define NUDGE_CMP(OP, FIELD, EXPR)                                                    \
  case op::OP:                                                                        \
    for (std::size_t k = 0; k < n; ++k) {                                             \
      ds[k] = as[k] == ir::present && b->s[k] == ir::present ? ir::present : ir::unknown; \
      d.i[k] = (a.FIELD[k] EXPR b->FIELD[k]) ? 1 : 0;                                 \
    }                                                                                 \
    break;
          NUDGE_CMP(eq_i, i, ==)
          NUDGE_CMP(ne_i, i, !=)
          NUDGE_CMP(lt_i, i, <)
          NUDGE_CMP(le_i, i, <=)
          NUDGE_CMP(gt_i, i, >)
          NUDGE_CMP(ge_i, i, >=)
          NUDGE_CMP(eq_f, f, ==)
          NUDGE_CMP(ne_f, f, !=)
          NUDGE_CMP(lt_f, f, <)
          NUDGE_CMP(le_f, f, <=)
          NUDGE_CMP(gt_f, f, >)
          NUDGE_CMP(ge_f, f, >=)
#undef NUDGE_CMP
          case op::in_i:
          case op::in_text: {
            std::vector<std::int64_t> set = m_.int_sets[in.b];
            if (in.code == op::in_text) {
              for (std::int64_t& v : set) v = texts_[static_cast<std::size_t>(v)];
            }
            for (std::size_t k = 0; k < n; ++k) {
              ds[k] = as[k] == ir::present ? ir::present : ir::unknown;
              d.i[k] = std::find(set.begin(), set.end(), a.i[k]) != set.end() ? 1 : 0;
            }
            break;
          }
          case op::in_f: {
            const auto& set = m_.float_sets[in.b];
            for (std::size_t k = 0; k < n; ++k) {
              ds[k] = as[k] == ir::present ? ir::present : ir::unknown;
              d.i[k] = std::find(set.begin(), set.end(), a.f[k]) != set.end() ? 1 : 0;
            }
            break;
          }
          case op::logical_and:
            // Three-valued: false wins over unknown.
            for (std::size_t k = 0; k < n; ++k) {
              const bool af = as[k] == ir::present && a.i[k] == 0;
              const bool bf = b->s[k] == ir::present && b->i[k] == 0;
              if (af || bf) {
                ds[k] = ir::present;
                d.i[k] = 0;
              } else {
                ds[k] = as[k] == ir::present && b->s[k] == ir::present ? ir::present : ir::unknown;
                d.i[k] = 1;
              }
            }
            break;
          case op::logical_or:
            for (std::size_t k = 0; k < n; ++k) {
              const bool at = as[k] == ir::present && a.i[k] != 0;
              const bool bt = b->s[k] == ir::present && b->i[k] != 0;
              if (at || bt) {
                ds[k] = ir::present;
                d.i[k] = 1;
              } else {
                ds[k] = as[k] == ir::present && b->s[k] == ir::present ? ir::present : ir::unknown;
                d.i[k] = 0;
              }
            }
            break;
          case op::logical_not:
            for (std::size_t k = 0; k < n; ++k) {
              ds[k] = as[k] == ir::present ? ir::present : ir::unknown;
              d.i[k] = a.i[k] == 0 ? 1 : 0;
            }
            break;
          case op::coalesce:
            for (std::size_t k = 0; k < n; ++k) {
              const bool use_a = as[k] == ir::present;
              ds[k] = use_a ? static_cast<std::uint8_t>(ir::present) : b->s[k];
              if (in.out == ir::rep::i64) d.i[k] = use_a ? a.i[k] : b->i[k];
              else d.f[k] = use_a ? a.f[k] : b->f[k];
            }
            break;
          case op::present:
            for (std::size_t k = 0; k < n; ++k) {
              ds[k] = ir::present;
              d.i[k] = as[k] == ir::present ? 1 : 0;
            }
            break;
          case op::days_until:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = a.i[k] - (static_cast<std::int64_t>(as_of) - in.i);
            break;
          case op::days_since:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) d.i[k] = (static_cast<std::int64_t>(as_of) - in.i) - a.i[k];
            break;
          case op::share:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->f[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->f[k] != 0 ? std::clamp(a.f[k] / b->f[k], 0.0, 1.0) : 0;
            }
            break;
          case op::pct_change:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (b->f[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              d.f[k] = b->f[k] != 0 ? (a.f[k] - b->f[k]) / std::fabs(b->f[k]) : 0;
            }
            break;
          default: break;
        }
      }
    }
  }
  (void)events;
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
    auto lo = t.day.begin() + t.begin[a];
    auto hi = t.day.begin() + t.begin[a + 1];
    lo = std::lower_bound(lo, hi, oldest);
    hi = std::upper_bound(lo, hi, newest);
    accumulator acc{kind, floating};
    freq.clear();
    for (auto it = lo; it != hi; ++it) {
      const auto e = static_cast<std::size_t>(it - t.day.begin());
      if (pred != ir::none) {
        const reg& p = event_regs_[pred];
        if (p.s[e - first] != ir::present || p.i[e - first] == 0) continue;
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
