#include "runtime/eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nudge::runtime {
namespace {

using ir::op;

// Absent and unknown both make a result not present; unknown wins, since it says less.
inline std::uint8_t combine(std::uint8_t a, std::uint8_t b) { return a > b ? a : b; }

// out[k] = values[k] is in `set`. Sets are small (the list in `tier in [smb, mid]`): up to
// four elements are tested in one pass, larger sets four at a time.
template <std::size_t N, typename T>
[[gnu::always_inline]] inline void in_set_pass(const T* values, const T* set, std::int64_t* out, std::size_t n, bool first) {
  for (std::size_t k = 0; k < n; ++k) {
    bool hit = false;
    for (std::size_t j = 0; j < N; ++j) hit |= values[k] == set[j];
    out[k] = (first ? 0 : out[k]) | (hit ? 1 : 0);
  }
}

template <typename T>
[[gnu::always_inline]] inline void in_set(const T* values, const std::vector<T>& set, std::int64_t* out, std::size_t n) {
  if (set.empty()) {
    std::fill_n(out, n, 0);
    return;
  }
  for (std::size_t j = 0; j < set.size(); j += 4) {
    const T* s = set.data() + j;
    const bool first = j == 0;
    switch (std::min<std::size_t>(4, set.size() - j)) {
      case 1:
        in_set_pass<1>(values, s, out, n, first);
        break;
      case 2:
        in_set_pass<2>(values, s, out, n, first);
        break;
      case 3:
        in_set_pass<3>(values, s, out, n, first);
        break;
      default:
        in_set_pass<4>(values, s, out, n, first);
        break;
    }
  }
}

std::int64_t round_half_away(double x) {
  return static_cast<std::int64_t>(x < 0 ? std::ceil(x - 0.5) : std::floor(x + 0.5));
}

}  // namespace

// A result that is present where its operand is, and unknown where it is absent or unknown.
void evaluator::present_state(const std::uint8_t* as, std::uint8_t* ds, reg& d, const std::uint8_t* all,
                              std::size_t n) {
  if (as == all) {
    d.ps = all;
    return;
  }
  for (std::size_t k = 0; k < n; ++k) ds[k] = as[k] == ir::present ? ir::present : ir::unknown;
}

namespace {

bool all_present(const std::vector<std::uint8_t>& states) {
  std::uint8_t any = 0;  // present is 0: an OR over all states, which vectorises
  for (const std::uint8_t s : states) any |= s;
  return any == ir::present;
}

// Text ids in the order of their strings, for most_frequent's ties (the smallest text
// wins): only the texts of the event fields it reads are ranked.
std::vector<std::uint32_t> rank_texts(const ir::module& m, const dataset& data, const std::vector<int>& slot) {
  std::vector<std::uint32_t> ids;
  std::vector<std::uint8_t> seen(data.strings.size(), 0);
  for (const ir::instr& in : m.main.code) {
    if (in.code != op::event_agg || static_cast<ir::agg>(in.b) != ir::agg::most_frequent || !in.text) continue;
    if (in.a >= slot.size() || slot[in.a] < 0) continue;
    for (const std::int64_t id : data.streams[static_cast<std::size_t>(slot[in.a])].i[in.c]) {
      const auto x = static_cast<std::size_t>(id);
      if (x < seen.size() && seen[x] == 0) {
        seen[x] = 1;
        ids.push_back(static_cast<std::uint32_t>(x));
      }
    }
  }
  std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) { return data.strings.at(a) < data.strings.at(b); });
  std::vector<std::uint32_t> rank(ids.empty() ? 0 : data.strings.size(), 0);
  for (std::size_t r = 0; r < ids.size(); ++r) rank[ids[r]] = static_cast<std::uint32_t>(r);
  return rank;
}

}  // namespace

bound_rules bind(const ir::module& m, dataset& data) {
  bound_rules b;
  for (const std::string& t : m.texts) b.texts.push_back(data.strings.intern(t));
  b.text_sets.resize(m.int_sets.size());
  auto bind_sets = [&](const ir::program& prog) {
    for (const ir::instr& in : prog.code) {
      if (in.code != op::in_text) continue;
      b.text_sets[in.b].clear();
      for (const std::int64_t v : m.int_sets[in.b]) b.text_sets[in.b].push_back(b.texts[static_cast<std::size_t>(v)]);
    }
  };
  bind_sets(m.main);
  for (const ir::program& prog : m.events) bind_sets(prog);
  std::uint32_t max_field = 0;
  for (const field_slots& f : data.fields) max_field = std::max(max_field, f.field + 1);
  b.columns.resize(max_field);
  b.dense.resize(max_field);
  for (const field_slots& f : data.fields) {
    auto& by_offset = b.columns[f.field];
    by_offset.assign(static_cast<std::size_t>(m.lookback + 1), nullptr);
    auto& dense = b.dense[f.field];
    dense.assign(static_cast<std::size_t>(m.lookback + 1), false);
    for (std::size_t s = 0; s < f.offsets.size(); ++s) {
      const auto offset = static_cast<std::size_t>(f.offsets[s]);
      by_offset[offset] = &f.columns[s];
      // A column without a missing value can share the all-present state: the operations
      // on it then skip their per-account state pass.
      dense[offset] = all_present(f.columns[s].state);
    }
  }
  std::uint32_t max_stream = 0;
  for (const event_table& t : data.streams) max_stream = std::max(max_stream, t.stream + 1);
  b.stream_slot.assign(max_stream, -1);
  for (std::size_t s = 0; s < data.streams.size(); ++s) b.stream_slot[data.streams[s].stream] = static_cast<int>(s);
  b.text_rank = rank_texts(m, data, b.stream_slot);
  return b;
}

evaluator::evaluator(const ir::module& m, const dataset& data, const bound_rules& bound)
    : m_(m), data_(data), bound_(bound) {
  regs_.resize(m.main.registers.size());
  event_regs_.resize(m.events.size());
  stream_batches_.resize(data.streams.size());
}

value evaluator::get(std::uint32_t r, std::size_t k) const {
  const reg& x = regs_[r];
  value v;
  v.state = x.ps[k];
  if (m_.main.registers[r] == ir::rep::i64)
    v.i = x.pi[k];
  else
    v.f = x.pf[k];
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
  for (stream_batch& sb : stream_batches_) sb.ready = false;
  exec(m_.main, regs_, end - begin, false, 0);
}

NUDGE_VECTOR_CLONES void evaluator::exec(const ir::program& prog, std::vector<reg>& regs, std::size_t n, bool events,
                     std::size_t stream_slot) {
  for (std::size_t r = 0; r < prog.registers.size(); ++r) {
    reg& x = regs[r];
    if (x.s.size() < n) {
      x.s.resize(n);
      if (prog.registers[r] == ir::rep::i64)
        x.i.resize(n);
      else
        x.f.resize(n);
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
    d.constant = in.code == op::const_i || in.code == op::const_text || in.code == op::const_f;
    switch (in.code) {
      case op::const_i:
      case op::const_text: {
        const std::int64_t v = in.code == op::const_text ? bound_.texts[static_cast<std::size_t>(in.i)] : in.i;
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
        const slot_column* c = bound_.columns[in.a][static_cast<std::size_t>(in.i)];
        d.ps = bound_.dense[in.a][static_cast<std::size_t>(in.i)] ? all : c->state.data() + begin_;
        if (in.out == ir::rep::i64)
          d.pi = c->i.data() + begin_;
        else
          d.pf = c->f.data() + begin_;
        break;
      }
      case op::window_field:
        window_field(in, d, n, all);
        break;
      case op::window_regs:
        window_regs(in, regs, d, n, all);
        break;
      case op::load_event: {
        const event_table& t = data_.streams[stream_slot];
        const std::size_t first = t.begin[begin_];
        d.ps = t.state[in.a].data() + first;
        if (in.out == ir::rep::i64)
          d.pi = t.i[in.a].data() + first;
        else
          d.pf = t.f[in.a].data() + first;
        break;
      }
      case op::outer: {
        // The event's account's value of a main-program register.
        const reg& src = regs_[in.a];
        const std::uint32_t* account = accounts_of(stream_slot).account.data();
        for (std::size_t e = 0; e < n; ++e) {
          const std::uint32_t k = account[e];
          ds[e] = src.ps[k];
          if (in.out == ir::rep::i64)
            d.i[e] = src.pi[k];
          else
            d.f[e] = src.pf[k];
        }
        break;
      }
      case op::event_agg:
        event_aggregate(in, d, n, all);
        break;
      default: {
        const reg& a = regs[in.a];
        const reg* b = in.b != ir::none && in.code != op::in_i && in.code != op::in_f && in.code != op::in_text
                           ? &regs[in.b]
                           : nullptr;
        // Local pointers: the loops write states through uint8_t pointers, which may alias
        // anything, so reading through the registers' members would reload them every step
        // and keep the loops from vectorising.
        const std::uint8_t* as = a.ps;
        const std::int64_t* ai = a.pi;
        const double* af = a.pf;
        const std::uint8_t* bs = b != nullptr ? b->ps : nullptr;
        const std::int64_t* bi = b != nullptr ? b->pi : nullptr;
        const double* bf = b != nullptr ? b->pf : nullptr;
        std::int64_t* const oi = d.i.data();
        double* const of = d.f.data();
        auto unary_state = [&] { d.ps = as; };
        auto binary_state = [&] {
          if (as == all && bs == all) {
            std::copy_n(all, n, ds);  // may still turn unknown below (division by zero)
            return;
          }
          for (std::size_t k = 0; k < n; ++k) ds[k] = combine(as[k], bs[k]);
        };
        // Three-valued `and` (dominant = false) and `or` (dominant = true): a present dominant
        // value decides the result whatever the other side is; two present values give the
        // plain result; anything else is unknown. Branch-free, so the loop vectorises.
        auto kleene = [&](bool dominant) {
          if (as == all && bs == all) {
            d.ps = all;
            for (std::size_t k = 0; k < n; ++k) oi[k] = dominant ? (ai[k] | bi[k]) : (ai[k] & bi[k]);
            return;
          }
          const std::int64_t* x = ai;
          const std::int64_t* y = bi;
          const std::uint8_t* xs = as;
          const std::uint8_t* ys = bs;
          for (std::size_t k = 0; k < n; ++k) {
            const bool xp = xs[k] == ir::present;
            const bool yp = ys[k] == ir::present;
            const bool xd = xp & ((x[k] != 0) == dominant);
            const bool yd = yp & ((y[k] != 0) == dominant);
            const bool decided = xd | yd;
            const bool both = xp & yp;
            ds[k] = decided | both ? ir::present : ir::unknown;
            // Decided: the dominant value; both present and undecided: the other value.
            oi[k] = decided == dominant ? 1 : 0;
          }
        };
        // For operations that never add unknowns: share the inputs' all-present state.
        auto pure_binary_state = [&] {
          if (as == all && bs == all) {
            d.ps = all;
            return;
          }
          for (std::size_t k = 0; k < n; ++k) ds[k] = combine(as[k], bs[k]);
        };
        switch (in.code) {
          case op::to_f:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = static_cast<double>(ai[k]);
            break;
          case op::neg_i:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = -ai[k];
            break;
          case op::neg_f:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = -af[k];
            break;
          case op::abs_i:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] < 0 ? -ai[k] : ai[k];
            break;
          case op::abs_f:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = std::fabs(af[k]);
            break;
          case op::add_i:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] + bi[k];
            break;
          case op::sub_i:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] - bi[k];
            break;
          case op::mul_i:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] * bi[k];
            break;
          case op::add_f:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = af[k] + bf[k];
            break;
          case op::sub_f:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = af[k] - bf[k];
            break;
          case op::mul_f:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) of[k] = af[k] * bf[k];
            break;
          case op::div_f:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (bf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              of[k] = bf[k] != 0 ? af[k] / bf[k] : 0;
            }
            break;
          case op::ratio:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (bi[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              of[k] = bi[k] != 0 ? static_cast<double>(ai[k]) / static_cast<double>(bi[k]) : 0;
            }
            break;
          case op::money_mul:
            pure_binary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = round_half_away(static_cast<double>(ai[k]) * bf[k]);
            break;
          case op::money_div:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (bf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              oi[k] = bf[k] != 0 ? round_half_away(static_cast<double>(ai[k]) / bf[k]) : 0;
            }
            break;
// A comparison: present where both sides are; against a constant, the constant is read once.
#define NUDGE_CMP(OP, A, B, EXPR)                                                         \
  case op::OP:                                                                            \
    if (as == all && bs == all) {                                                         \
      d.ps = all;                                                                         \
    } else {                                                                              \
      for (std::size_t k = 0; k < n; ++k) {                                               \
        ds[k] = as[k] == ir::present && bs[k] == ir::present ? ir::present : ir::unknown; \
      }                                                                                   \
    }                                                                                     \
    if (b->constant) {                                                                    \
      const auto c = B[0];                                                                \
      for (std::size_t k = 0; k < n; ++k) oi[k] = (A[k] EXPR c) ? 1 : 0;                  \
    } else {                                                                              \
      for (std::size_t k = 0; k < n; ++k) oi[k] = (A[k] EXPR B[k]) ? 1 : 0;               \
    }                                                                                     \
    break;
            NUDGE_CMP(eq_i, ai, bi, ==)
            NUDGE_CMP(ne_i, ai, bi, !=)
            NUDGE_CMP(lt_i, ai, bi, <)
            NUDGE_CMP(le_i, ai, bi, <=)
            NUDGE_CMP(gt_i, ai, bi, >)
            NUDGE_CMP(ge_i, ai, bi, >=)
            NUDGE_CMP(eq_f, af, bf, ==)
            NUDGE_CMP(ne_f, af, bf, !=)
            NUDGE_CMP(lt_f, af, bf, <)
            NUDGE_CMP(le_f, af, bf, <=)
            NUDGE_CMP(gt_f, af, bf, >)
            NUDGE_CMP(ge_f, af, bf, >=)
#undef NUDGE_CMP
          case op::in_i:
          case op::in_text: {
            const std::vector<std::int64_t>& set = in.code == op::in_text ? bound_.text_sets[in.b] : m_.int_sets[in.b];
            present_state(as, ds, d, all, n);
            in_set(a.pi, set, oi, n);
            break;
          }
          case op::in_f: {
            present_state(as, ds, d, all, n);
            in_set(a.pf, m_.float_sets[in.b], oi, n);
            break;
          }
          case op::logical_and:
            kleene(false);
            break;
          case op::logical_or:
            kleene(true);
            break;
          case op::logical_not:
            present_state(as, ds, d, all, n);
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] == 0 ? 1 : 0;
            break;
          case op::coalesce:
            for (std::size_t k = 0; k < n; ++k) {
              const bool use_a = as[k] == ir::present;
              ds[k] = use_a ? static_cast<std::uint8_t>(ir::present) : bs[k];
              if (in.out == ir::rep::i64)
                oi[k] = use_a ? ai[k] : bi[k];
              else
                of[k] = use_a ? af[k] : bf[k];
            }
            break;
          case op::present:
            d.ps = all;
            for (std::size_t k = 0; k < n; ++k) oi[k] = as[k] == ir::present ? 1 : 0;
            break;
          case op::days_until:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = ai[k] - (static_cast<std::int64_t>(as_of) - in.i);
            break;
          case op::days_since:
            unary_state();
            for (std::size_t k = 0; k < n; ++k) oi[k] = (static_cast<std::int64_t>(as_of) - in.i) - ai[k];
            break;
          case op::share:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (bf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              of[k] = bf[k] != 0 ? std::clamp(af[k] / bf[k], 0.0, 1.0) : 0;
            }
            break;
          case op::pct_change:
            binary_state();
            for (std::size_t k = 0; k < n; ++k) {
              if (bf[k] == 0 && ds[k] == ir::present) ds[k] = ir::unknown;
              of[k] = bf[k] != 0 ? (af[k] - bf[k]) / std::fabs(bf[k]) : 0;
            }
            break;
          default:
            break;
        }
      }
    }
  }
}

}  // namespace nudge::runtime
