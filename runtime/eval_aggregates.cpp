// Aggregates over time: windows over snapshot days (day by day over the whole batch) and
// aggregates over event streams (per stream and batch, each event's account and age are
// computed once; each aggregate masks the events it keeps in flat passes, then reduces
// each account's segment with the accumulator in a register).
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/eval.hpp"

namespace nudge::runtime {
namespace {

// One step of a window's sum, min or max: the value counts when present.
template <typename T>
[[gnu::always_inline]] inline T accumulate(ir::agg kind, bool present, T v, T acc) {
  if (kind == ir::agg::min) return present && v < acc ? v : acc;
  if (kind == ir::agg::max) return present && v > acc ? v : acc;
  return acc + (present ? v : T{0});
}

// acc[k] += v[0][k] + ... + v[M - 1][k], added in day order as the day-by-day loop does.
template <std::size_t M, typename T>
[[gnu::always_inline]] inline void sum_columns(T* acc, const T* const* v, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    T a = acc[k];
    for (std::size_t j = 0; j < M; ++j) a += v[j][k];
    acc[k] = a;
  }
}

// Round-half-away integer division, for averages of money.
std::int64_t div_round(std::int64_t sum, std::int64_t n) {
  const std::int64_t q = sum / n;
  const std::int64_t r = sum % n;
  if (2 * (r < 0 ? -r : r) >= n) return q + (sum < 0 ? -1 : 1);
  return q;
}

// Writes the aggregates of a batch into register `d`: per account `count` values whose
// sum (sum, avg) or extreme (min, max) is in `fsum` (f64 values) or `isum` (i64 values).
// A sum of nothing is 0; any other aggregate of nothing is unknown. Each case is one plain
// loop without branches, and a batch where every account has values shares the
// all-present state.
template <typename Reg>
[[gnu::always_inline]] inline void finish(ir::agg kind, bool floating, bool out_f, const std::int64_t* count, const double* fsum,
            const std::int64_t* isum, Reg& d, std::size_t n, const std::uint8_t* all) {
  double* of = d.f.data();
  std::int64_t* oi = d.i.data();
  std::uint8_t* os = d.s.data();
  if (kind == ir::agg::avg) {
    if (out_f) {
      for (std::size_t k = 0; k < n; ++k) {
        const double total = floating ? fsum[k] : static_cast<double>(isum[k]);
        of[k] = total / static_cast<double>(count[k] > 0 ? count[k] : 1);
      }
    } else {
      for (std::size_t k = 0; k < n; ++k) oi[k] = count[k] > 0 ? div_round(isum[k], count[k]) : 0;
    }
  } else if (out_f) {
    for (std::size_t k = 0; k < n; ++k) of[k] = floating ? fsum[k] : static_cast<double>(isum[k]);
  } else {
    std::copy_n(isum, n, oi);
  }
  if (kind == ir::agg::sum) {
    d.ps = all;
    return;
  }
  std::int64_t empty = 0;
  for (std::size_t k = 0; k < n; ++k) {
    empty += count[k] == 0 ? 1 : 0;
    os[k] = count[k] > 0 ? ir::present : ir::unknown;
  }
  if (empty == 0) d.ps = all;
}

template <typename T>
T lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::min();
}
template <typename T>
T highest() {
  return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
}

}  // namespace

NUDGE_VECTOR_CLONES void evaluator::window_field(const ir::instr& in, reg& d, std::size_t n, const std::uint8_t* all) {
  const auto& cols = bound_.columns[in.a];
  const auto& dense = bound_.dense[in.a];
  const bool floating = in.in == ir::rep::f64;
  const auto kind = static_cast<ir::agg>(in.b);
  const auto first_day = static_cast<std::size_t>(in.i);
  const auto end_day = static_cast<std::size_t>(in.i + in.window);
  bool all_dense = true;
  for (std::size_t day = first_day; day < end_day; ++day) all_dense = all_dense && dense[day];
  scratch_n_.assign(n, all_dense ? in.window : 0);
  std::int64_t* count = scratch_n_.data();
  const bool extreme = kind == ir::agg::min || kind == ir::agg::max;
  // Day by day over the batch: each pass reads one column sequentially. Sums over dense
  // days read up to eight columns per pass, so the running sum stays in a register.
  auto run = [&](auto* acc, auto values_of) {
    using T = std::remove_pointer_t<decltype(acc)>;
    const T start = !extreme ? T{0} : kind == ir::agg::min ? highest<T>() : lowest<T>();
    std::fill_n(acc, n, start);
    if (all_dense && !extreme) {
      for (std::size_t day = first_day; day < end_day; day += 8) {
        const T* v[8];
        const std::size_t m = std::min<std::size_t>(8, end_day - day);
        for (std::size_t j = 0; j < m; ++j) v[j] = values_of(cols[day + j]) + begin_;
        switch (m) {
          case 1: sum_columns<1>(acc, v, n); break;
          case 2: sum_columns<2>(acc, v, n); break;
          case 3: sum_columns<3>(acc, v, n); break;
          case 4: sum_columns<4>(acc, v, n); break;
          case 5: sum_columns<5>(acc, v, n); break;
          case 6: sum_columns<6>(acc, v, n); break;
          case 7: sum_columns<7>(acc, v, n); break;
          default: sum_columns<8>(acc, v, n); break;
        }
      }
      return;
    }
    for (std::size_t day = first_day; day < end_day; ++day) {
      const slot_column* c = cols[day];
      const T* v = values_of(c) + begin_;
      if (dense[day] && !extreme) {
        for (std::size_t k = 0; k < n; ++k) acc[k] += v[k];
        if (!all_dense) {
          for (std::size_t k = 0; k < n; ++k) ++count[k];
        }
        continue;
      }
      const std::uint8_t* st = c->state.data() + begin_;
      for (std::size_t k = 0; k < n; ++k) {
        const bool p = dense[day] || st[k] == ir::present;
        acc[k] = accumulate(kind, p, v[k], acc[k]);
        if (!all_dense) count[k] += p ? 1 : 0;
      }
    }
  };
  scratch_f_.resize(n);
  scratch_i_.resize(n);
  if (floating)
    run(scratch_f_.data(), [](const slot_column* c) { return c->f.data(); });
  else
    run(scratch_i_.data(), [](const slot_column* c) { return c->i.data(); });
  finish(kind, floating, in.out == ir::rep::f64, count, scratch_f_.data(), scratch_i_.data(), d, n, all);
}

NUDGE_VECTOR_CLONES void evaluator::window_regs(const ir::instr& in, const std::vector<reg>& regs, reg& d, std::size_t n,
                            const std::uint8_t* all) {
  const auto& list = m_.int_sets[in.sub];
  const bool floating = in.in == ir::rep::f64;
  const auto kind = static_cast<ir::agg>(in.b);
  scratch_n_.assign(n, 0);
  scratch_f_.resize(n);
  scratch_i_.resize(n);
  auto run = [&](auto* acc, auto values_of) {
    using T = std::remove_pointer_t<decltype(acc)>;
    const bool extreme = kind == ir::agg::min || kind == ir::agg::max;
    std::fill_n(acc, n, !extreme ? T{0} : kind == ir::agg::min ? highest<T>() : lowest<T>());
    for (const std::int64_t r : list) {
      const reg& x = regs[static_cast<std::size_t>(r)];
      const T* v = values_of(x);
      for (std::size_t k = 0; k < n; ++k) {
        const bool p = x.ps[k] == ir::present;
        acc[k] = accumulate(kind, p, v[k], acc[k]);
        scratch_n_[k] += p ? 1 : 0;
      }
    }
  };
  if (floating)
    run(scratch_f_.data(), [](const reg& x) { return x.pf; });
  else
    run(scratch_i_.data(), [](const reg& x) { return x.pi; });
  finish(kind, floating, in.out == ir::rep::f64, scratch_n_.data(), scratch_f_.data(), scratch_i_.data(), d, n, all);
}

const evaluator::stream_batch& evaluator::events_of(std::size_t slot) {
  stream_batch& sb = stream_batches_[slot];
  if (sb.ready) return sb;
  const event_table& t = data_.streams[slot];
  sb.first = t.begin[begin_];
  sb.count = t.begin[end_] - sb.first;
  sb.accounts = false;
  sb.age.resize(sb.count);
  const day_number* day = t.day.data() + sb.first;
  const auto as_of = static_cast<std::uint32_t>(data_.as_of);
  for (std::size_t e = 0; e < sb.count; ++e) sb.age[e] = as_of - static_cast<std::uint32_t>(day[e]);
  sb.ready = true;
  return sb;
}

const evaluator::stream_batch& evaluator::accounts_of(std::size_t slot) {
  events_of(slot);
  stream_batch& sb = stream_batches_[slot];
  if (sb.accounts) return sb;
  const event_table& t = data_.streams[slot];
  const std::size_t n = end_ - begin_;
  // Each event's account: mark where each account's events start, then a running sum.
  sb.account.assign(sb.count + 1, 0);
  for (std::size_t k = 1; k < n; ++k) sb.account[t.begin[begin_ + k] - sb.first] += 1;
  std::uint32_t running = 0;
  for (std::size_t e = 0; e < sb.count; ++e) {
    running += sb.account[e];
    sb.account[e] = running;
  }
  sb.accounts = true;
  return sb;
}

void evaluator::run_event_program(std::uint32_t sub, std::size_t stream_slot) {
  const ir::program& prog = m_.events[sub];
  std::vector<reg>& regs = event_regs_[sub];
  regs.resize(prog.registers.size());
  exec(prog, regs, events_of(stream_slot).count, true, stream_slot);
}

namespace {

// Per account k, over its events [begin[k] - first, begin[k + 1] - first): the sum (or,
// for min and max, the extreme) of the values of the kept events, and how many were kept.
// An event that is not kept adds `start` (0, or the identity of min/max), chosen before
// the add, so the chain of adds is as short as over a masked copy without writing one.
// The accumulator stays in a register: adding into memory would chain each event of an
// account to the store of the one before.
template <ir::agg Kind, typename T>
[[gnu::always_inline]] inline void segmented(const std::uint32_t* begin, std::size_t first, const std::uint8_t* keep,
                                             const T* v, std::size_t n, T start, T* acc, std::int64_t* count) {
  for (std::size_t k = 0; k < n; ++k) {
    T a = start;
    std::int64_t kept = 0;
    for (std::size_t e = begin[k] - first; e < begin[k + 1] - first; ++e) {
      const T x = keep[e] != 0 ? v[e] : start;
      if constexpr (Kind == ir::agg::min) a = x < a ? x : a;
      else if constexpr (Kind == ir::agg::max) a = x > a ? x : a;
      else a += x;
      kept += keep[e];
    }
    acc[k] = a;
    count[k] = kept;
  }
}

}  // namespace

NUDGE_VECTOR_CLONES void evaluator::event_aggregate(const ir::instr& in, reg& d, std::size_t n, const std::uint8_t* all) {
  const auto slot = static_cast<std::size_t>(bound_.stream_slot[in.a]);
  const event_table& t = data_.streams[slot];
  const stream_batch& sb = events_of(slot);
  if (in.sub != ir::none) run_event_program(in.sub, slot);
  const reg* pred = in.sub != ir::none ? &event_regs_[in.sub][m_.events[in.sub].code.back().dst] : nullptr;
  const auto kind = static_cast<ir::agg>(in.b);
  const std::size_t events = sb.count;
  // keep[e]: the event is in the window [in.i, in.i + window) days back, passes the
  // `where`, and (for aggregates of a field) has a value.
  // One pass, in one of four shapes so that no test runs per event that the shape does not need.
  keep_.resize(events + 4);
  std::uint8_t* keep = keep_.data();
  std::fill_n(keep + events, 4, 0);  // padding
  const std::uint32_t* age = sb.age.data();
  const auto from = static_cast<std::uint32_t>(in.i);
  const auto width = static_cast<std::uint32_t>(in.window);
  const std::uint8_t* ps = pred != nullptr ? pred->ps : nullptr;
  const std::int64_t* pv = pred != nullptr ? pred->pi : nullptr;
  const std::uint8_t* st = kind != ir::agg::count ? t.state[in.c].data() + sb.first : nullptr;
  if (ps != nullptr && st != nullptr) {
    for (std::size_t e = 0; e < events; ++e) {
      keep[e] = static_cast<std::uint8_t>((age[e] - from < width) & (ps[e] == ir::present) & (pv[e] != 0) &
                                          (st[e] == ir::present));
    }
  } else if (ps != nullptr) {
    for (std::size_t e = 0; e < events; ++e) {
      keep[e] = static_cast<std::uint8_t>((age[e] - from < width) & (ps[e] == ir::present) & (pv[e] != 0));
    }
  } else if (st != nullptr) {
    for (std::size_t e = 0; e < events; ++e) {
      keep[e] = static_cast<std::uint8_t>((age[e] - from < width) & (st[e] == ir::present));
    }
  } else {
    for (std::size_t e = 0; e < events; ++e) keep[e] = static_cast<std::uint8_t>(age[e] - from < width);
  }
  if (kind == ir::agg::most_frequent) return most_frequent(in, t, sb, d, n);
  if (kind == ir::agg::count) {
    // A running count over the batch's events, then one difference per account: adding
    // into each event's account slot instead chains consecutive events of an account
    // through memory.
    prefix_.resize(events + 1);
    std::uint32_t* prefix = prefix_.data();
    std::uint32_t running = 0;
    prefix[0] = 0;
    for (std::size_t e = 0; e < events; ++e) {
      running += keep[e];
      prefix[e + 1] = running;
    }
    const std::uint32_t* begin = t.begin.data() + begin_;
    std::int64_t* di = d.i.data();
    for (std::size_t k = 0; k < n; ++k) di[k] = prefix[begin[k + 1] - sb.first] - prefix[begin[k] - sb.first];
    d.ps = all;
    return;
  }
  const bool floating = in.in == ir::rep::f64;
  scratch_n_.resize(n);
  std::int64_t* count = scratch_n_.data();
  const std::uint32_t* offsets = t.begin.data() + begin_;
  auto run = [&](auto* acc, const auto* v) {
    using T = std::remove_pointer_t<decltype(acc)>;
    const T start = kind == ir::agg::min ? highest<T>() : kind == ir::agg::max ? lowest<T>() : T{0};
    switch (kind) {
      case ir::agg::min: segmented<ir::agg::min>(offsets, sb.first, keep, v, n, start, acc, count); break;
      case ir::agg::max: segmented<ir::agg::max>(offsets, sb.first, keep, v, n, start, acc, count); break;
      default: segmented<ir::agg::sum>(offsets, sb.first, keep, v, n, start, acc, count); break;
    }
  };
  scratch_f_.resize(n);
  scratch_i_.resize(n);
  if (floating) run(scratch_f_.data(), t.f[in.c].data() + sb.first);
  else run(scratch_i_.data(), t.i[in.c].data() + sb.first);
  finish(kind, floating, in.out == ir::rep::f64, count, scratch_f_.data(), scratch_i_.data(), d, n, all);
}

void evaluator::most_frequent(const ir::instr& in, const event_table& t, const stream_batch& sb, reg& d,
                              std::size_t n) {
  const std::int64_t* v = t.i[in.c].data() + sb.first;
  const std::uint8_t* keep = keep_.data();
  const std::uint32_t* begin = t.begin.data() + begin_;
  const std::size_t first = sb.first;
  // Local pointers: stores through the uint8_t state would otherwise make the compiler
  // reload every pointer it reads through a reference.
  std::uint8_t* ds = d.s.data();
  std::int64_t* di = d.i.data();
  // A tie goes to the smallest value: texts by their strings (their rank), enums by variant.
  const std::uint32_t* rank = in.text ? bound_.text_rank.data() : nullptr;
  auto order = [rank](std::int64_t x) -> std::int64_t {
    return rank != nullptr ? static_cast<std::int64_t>(rank[static_cast<std::size_t>(x)]) : x;
  };
  // A counter per value (interned text ids or enum variants: small integers), sized once
  // for the batch; counts only grow, so the leader can be kept as they do.
  std::int64_t top = -1;
  for (std::size_t e = 0; e < sb.count; ++e) top = std::max(top, v[e]);
  if (top >= 0 && static_cast<std::size_t>(top) >= value_counts_.size()) {
    value_counts_.resize(static_cast<std::size_t>(top) + 1, 0);
  }
  std::uint32_t* counts = value_counts_.data();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t lo = begin[k] - first;
    const std::size_t hi = begin[k + 1] - first;
    // Most accounts keep no event or one: no counting for them.
    std::size_t kept = 0;
    std::size_t last = lo;
    for (std::size_t e = lo; e < hi; ++e) {
      kept += keep[e];
      last = keep[e] != 0 ? e : last;
    }
    if (kept <= 1) {
      ds[k] = kept == 1 && v[last] >= 0 ? ir::present : ir::unknown;
      di[k] = kept == 1 ? v[last] : 0;
      continue;
    }
    std::int64_t best = 0;
    std::uint32_t best_count = 0;
    for (std::size_t e = lo; e < hi; ++e) {
      if (keep[e] == 0 || v[e] < 0) continue;
      const std::uint32_t c = ++counts[static_cast<std::size_t>(v[e])];
      if (c > best_count || (c == best_count && v[e] != best && order(v[e]) < order(best))) {
        best = v[e];
        best_count = c;
      }
    }
    for (std::size_t e = lo; e < hi; ++e) {
      if (v[e] >= 0) counts[static_cast<std::size_t>(v[e])] = 0;
    }
    ds[k] = best_count > 0 ? ir::present : ir::unknown;
    di[k] = best;
  }
}
}  // namespace nudge::runtime
