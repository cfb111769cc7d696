// Evaluation speed: the engine against hand-written C++ loops that compute the same signals
// over the same in-memory data (the practical limit), plus checking speed.
//   ./build/bench/nudge_bench                      (1,000,000 accounts)
//   NUDGE_BENCH_ACCOUNTS=10000 ./build/bench/nudge_bench   (the smoke run in ctest)
// docs/performance.md records the figures.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/check.hpp"
#include "compiler/lower.hpp"
#include "runtime/cells.hpp"
#include "runtime/eval.hpp"
#include "runtime/load.hpp"
#include "runtime/night.hpp"
#include "runtime/synthetic.hpp"
#include "runtime/time.hpp"

using namespace nudge;

namespace {

std::size_t accounts() {
  const char* env = std::getenv("NUDGE_BENCH_ACCOUNTS");
  return env != nullptr ? static_cast<std::size_t>(std::atoll(env)) : 1'000'000;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct compiled {
  diagnostic_sink sink;
  compiler::rule_set rules;
  compiler::program checked;
  ir::module lowered;

  explicit compiled(const std::vector<std::pair<std::string, std::string>>& files) {
    rules = compiler::from_files(files, sink);
    checked = compiler::check(rules, sink);
    if (sink.error_count() > 0) throw std::runtime_error("bench rules do not check: " + sink.all().front().message);
    lowered = compiler::lower(rules, checked);
  }
};

// The shipped example rule set, file by file.
std::vector<std::pair<std::string, std::string>> example_files() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* f : {"schema.rule", "signals.rule", "plays.rule", "policy.rule"}) {
    files.emplace_back(f, read(std::string(NUDGE_SOURCE_DIR "/rules-examples/") + f));
  }
  return files;
}

// SplitMix64, for data that is the same on every run.
struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

// Fills every column and event stream the lowered rules read with plausible random values.
runtime::dataset make_data(const compiled& c, std::size_t n) {
  rng r{42};
  runtime::dataset d;
  d.as_of = 20'000;
  for (std::size_t a = 0; a < n; ++a) {
    d.account_ids.push_back("acc-" + std::to_string(a));
    d.account_keys.push_back(runtime::account_key(d.account_ids.back()));
  }
  for (const ir::field_need& need : c.lowered.fields) {
    const compiler::field_info& f = c.checked.schema.fields[need.field];
    runtime::field_slots slots;
    slots.field = need.field;
    slots.offsets = need.offsets;
    slots.rep = f.t.k == compiler::kind::number || f.t.k == compiler::kind::percent ? ir::rep::f64 : ir::rep::i64;
    for (std::size_t s = 0; s < need.offsets.size(); ++s) {
      runtime::slot_column col;
      col.state.assign(n, ir::present);
      if (slots.rep == ir::rep::f64) col.f.resize(n);
      else col.i.resize(n);
      for (std::size_t a = 0; a < n; ++a) {
        switch (f.t.k) {
          case compiler::kind::money: col.i[a] = static_cast<std::int64_t>(5'000'000 + r.next() % 20'000'000); break;
          case compiler::kind::date:
            col.i[a] = d.as_of + static_cast<std::int64_t>(r.next() % 200);
            if (r.unit() < 0.2) col.state[a] = ir::absent;
            break;
          case compiler::kind::enum_:
            col.i[a] = static_cast<std::int64_t>(r.next() % c.checked.schema.enums[f.t.ref].variants.size());
            break;
          case compiler::kind::number:
          case compiler::kind::percent: col.f[a] = r.unit(); break;
          default: col.i[a] = static_cast<std::int64_t>(1 + r.next() % 100); break;
        }
      }
      slots.columns.push_back(std::move(col));
    }
    d.fields.push_back(std::move(slots));
  }
  const std::uint32_t topics[] = {d.strings.intern("billing"), d.strings.intern("access"), d.strings.intern("reports")};
  for (const ir::stream_need& need : c.lowered.streams) {
    const compiler::stream_info& st = c.checked.schema.streams[need.stream];
    runtime::event_table t;
    t.stream = need.stream;
    t.i.resize(st.fields.size());
    t.f.resize(st.fields.size());
    t.state.resize(st.fields.size());
    t.begin.push_back(0);
    for (std::size_t a = 0; a < n; ++a) {
      const std::size_t count = r.next() % 5;
      std::vector<runtime::day_number> days;
      for (std::size_t e = 0; e < count; ++e) days.push_back(static_cast<runtime::day_number>(d.as_of - static_cast<int>(r.next() % static_cast<std::uint64_t>(need.max_back + 1))));
      std::sort(days.begin(), days.end());
      for (const runtime::day_number day : days) {
        t.day.push_back(day);
        for (const std::uint32_t f : need.fields) {
          const compiler::type& ft = st.fields[f].t;
          t.state[f].push_back(ir::present);
          if (ft.k == compiler::kind::number) t.f[f].push_back(1 + 10 * r.unit());
          else if (ft.k == compiler::kind::text) t.i[f].push_back(topics[r.next() % 3]);
          else if (ft.k == compiler::kind::date) t.i[f].push_back(day);
          else t.i[f].push_back(static_cast<std::int64_t>(r.next() % 1000));
        }
      }
      t.begin.push_back(static_cast<std::uint32_t>(t.day.size()));
    }
    d.streams.push_back(std::move(t));
  }
  return d;
}

void report(benchmark::State& state, std::size_t accounts, std::size_t fired) {
  state.counters["ns_per_account"] = benchmark::Counter(static_cast<double>(accounts),
                                                        benchmark::Counter::kIsIterationInvariantRate |
                                                            benchmark::Counter::kInvert);
  state.counters["fired"] = static_cast<double>(fired);
}

std::size_t engine_fired(const compiled& c, runtime::dataset& d, std::vector<std::size_t>* per_signal = nullptr) {
  const runtime::bound_rules bound = runtime::bind(c.lowered, d);
  runtime::evaluator ev(c.lowered, d, bound);
  std::size_t fired = 0;
  // The night's batch, unless NUDGE_BENCH_BATCH says otherwise (to measure other sizes).
  const std::size_t batch = std::getenv("NUDGE_BENCH_BATCH") != nullptr ? std::stoul(std::getenv("NUDGE_BENCH_BATCH"))
                                                                        : runtime::night_options{}.batch;
  for (std::size_t b = 0; b < d.accounts(); b += batch) {
    const std::size_t e = std::min(d.accounts(), b + batch);
    ev.run(b, e);
    for (std::size_t s = 0; s < c.lowered.signals.size(); ++s) {
      const std::size_t f = ev.count_holding(c.lowered.signals[s].when);
      fired += f;
      if (per_signal != nullptr) (*per_signal)[s] += f;
    }
  }
  return fired;
}

const runtime::slot_column& column(const runtime::dataset& d, const compiler::program& p, const char* field, int offset) {
  const std::size_t f = *p.schema.field(field);
  for (const runtime::field_slots& s : d.fields) {
    if (s.field != f) continue;
    const auto at = std::find(s.offsets.begin(), s.offsets.end(), offset);
    if (at != s.offsets.end()) return s.columns[static_cast<std::size_t>(at - s.offsets.begin())];
  }
  throw std::runtime_error(std::string("no column ") + field);
}

// ---- the five example signals, by hand --------------------------------------------------------

struct example_bench {
  compiled rules{example_files()};
  runtime::dataset data = make_data(rules, accounts());
};

example_bench& example() {
  static example_bench b;
  return b;
}

// The same conditions as rules-examples/signals.rule, over the same columns, with the same
// treatment of missing data (every value here is present except some renewal dates).
NUDGE_VECTOR_CLONES std::size_t handwritten_example(const example_bench& b) {
  const auto& p = b.rules.checked;
  const auto& d = b.data;
  const auto& arpa0 = column(d, p, "arpa", 0);
  const auto& arpa60 = column(d, p, "arpa", 60);
  const auto& mau = column(d, p, "mau", 0);
  const auto& seats_paid = column(d, p, "seats_paid", 0);
  const auto& seats_active = column(d, p, "seats_active", 0);
  const auto& kf_used = column(d, p, "key_features_used", 0);
  const auto& kf_total = column(d, p, "key_features_total", 0);
  const auto& renewal = column(d, p, "renewal_date", 0);
  const runtime::slot_column* dau[37];
  for (int o = 0; o < 37; ++o) dau[o] = (o <= 6 || o >= 30) ? &column(d, p, "dau", o) : nullptr;
  const auto& tickets = d.streams[0];  // tickets: read back 59 days
  const auto& payments = d.streams[1];
  // Event fields in schema order: tickets (opened, topic, reply_hours).
  const std::size_t topic = 1;
  const std::size_t reply = 2;
  std::size_t fired = 0;
  const std::int64_t today = d.as_of;
  for (std::size_t a = 0; a < d.accounts(); ++a) {
    // check_growing
    const double growth = (static_cast<double>(arpa0.i[a]) - static_cast<double>(arpa60.i[a])) /
                          std::fabs(static_cast<double>(arpa60.i[a]));
    fired += growth >= 0.15;
    // check_falling
    double now = 0;
    double before = 0;
    for (int o = 0; o < 7; ++o) {
      now += static_cast<double>(dau[o]->i[a]);
      before += static_cast<double>(dau[30 + o]->i[a]);
    }
    const double drop = -((now / 7 - before / 7) / std::fabs(before / 7));
    std::int64_t pay_now = 0;
    std::int64_t pay_before = 0;
    for (std::size_t e = payments.begin[a]; e < payments.begin[a + 1]; ++e) {
      const std::int64_t back = today - payments.day[e];
      pay_now += back <= 29;
      pay_before += back >= 30 && back <= 59;
    }
    fired += drop >= 0.1 || pay_now < pay_before;
    // low_adoption
    const double stick = std::clamp(now / 7 / static_cast<double>(mau.i[a]), 0.0, 1.0);
    const double key = std::clamp(static_cast<double>(kf_used.i[a]) / static_cast<double>(kf_total.i[a]), 0.0, 1.0);
    fired += stick < 0.2 || key < 0.5 || seats_paid.i[a] - seats_active.i[a] >= 3;
    // support_pain: most frequent topic, its count, and reply-time change
    std::int64_t best = -1;
    std::int64_t best_n = 0;
    double hours_now = 0;
    double hours_before = 0;
    std::int64_t n_now = 0;
    std::int64_t n_before = 0;
    for (std::size_t e = tickets.begin[a]; e < tickets.begin[a + 1]; ++e) {
      const std::int64_t back = today - tickets.day[e];
      if (back <= 29) {
        std::int64_t count = 0;
        for (std::size_t g = tickets.begin[a]; g < tickets.begin[a + 1]; ++g) {
          count += today - tickets.day[g] <= 29 && tickets.i[topic][g] == tickets.i[topic][e];
        }
        if (count > best_n || (count == best_n && d.strings.at(static_cast<std::uint32_t>(tickets.i[topic][e])) <
                                                      d.strings.at(static_cast<std::uint32_t>(best)))) {
          best = tickets.i[topic][e];
          best_n = count;
        }
        hours_now += tickets.f[reply][e];
        ++n_now;
      } else {
        hours_before += tickets.f[reply][e];
        ++n_before;
      }
    }
    const bool slow = n_now > 0 && n_before > 0 &&
                      (hours_now / static_cast<double>(n_now) - hours_before / static_cast<double>(n_before)) /
                              (hours_before / static_cast<double>(n_before)) >=
                          0.25;
    fired += best_n >= 3 || slow;
    // renewal_window
    if (renewal.state[a] == ir::present) {
      const std::int64_t left = renewal.i[a] - today;
      fired += left == 120 || left == 60 || left == 30;
    }
  }
  return fired;
}

void BM_engine_example_signals(benchmark::State& state) {
  example_bench& b = example();
  std::size_t fired = 0;
  for (auto _ : state) benchmark::DoNotOptimize(fired = engine_fired(b.rules, b.data));
  report(state, b.data.accounts(), fired);
}

void BM_handwritten_example_signals(benchmark::State& state) {
  example_bench& b = example();
  std::size_t fired = 0;
  for (auto _ : state) benchmark::DoNotOptimize(fired = handwritten_example(b));
  report(state, b.data.accounts(), fired);
  if (fired != engine_fired(b.rules, b.data)) state.SkipWithError("the hand-written loop disagrees with the engine");
}

// ---- five conditions over precomputed fields: comparable with other engines -------------------

const char* five_rules = R"(
schema {
  history 1d
  growth: number
  usage_share: number
  tier: enum(smb, mid, enterprise)
  tickets_30d: int
  days_to_renewal: int
}
signal growing { when growth >= 0.15 }
signal heavy_usage { when usage_share > 0.9 and tier in [smb, mid] }
signal support { when tickets_30d >= 3 }
signal renewal { when days_to_renewal in [120, 60, 30] }
signal enterprise_growth { when tier == enterprise and growth > 0.1 and usage_share > 0.5 }
)";

struct five_bench {
  compiled rules{{{"five.rule", five_rules}}};
  runtime::dataset data = make_data(rules, accounts());
};

five_bench& five() {
  static five_bench b;
  return b;
}

NUDGE_VECTOR_CLONES std::size_t handwritten_five(const five_bench& b) {
  const auto& p = b.rules.checked;
  const auto& growth = column(b.data, p, "growth", 0).f;
  const auto& usage = column(b.data, p, "usage_share", 0).f;
  const auto& tier = column(b.data, p, "tier", 0).i;
  const auto& tickets = column(b.data, p, "tickets_30d", 0).i;
  const auto& renewal = column(b.data, p, "days_to_renewal", 0).i;
  std::size_t fired = 0;
  for (std::size_t a = 0; a < b.data.accounts(); ++a) {
    fired += growth[a] >= 0.15;
    fired += usage[a] > 0.9 && (tier[a] == 0 || tier[a] == 1);
    fired += tickets[a] >= 3;
    fired += renewal[a] == 120 || renewal[a] == 60 || renewal[a] == 30;
    fired += tier[a] == 2 && growth[a] > 0.1 && usage[a] > 0.5;
  }
  return fired;
}

void BM_engine_five_conditions(benchmark::State& state) {
  five_bench& b = five();
  std::size_t fired = 0;
  for (auto _ : state) benchmark::DoNotOptimize(fired = engine_fired(b.rules, b.data));
  report(state, b.data.accounts(), fired);
}

void BM_handwritten_five_conditions(benchmark::State& state) {
  five_bench& b = five();
  std::size_t fired = 0;
  for (auto _ : state) benchmark::DoNotOptimize(fired = handwritten_five(b));
  report(state, b.data.accounts(), fired);
  if (fired != engine_fired(b.rules, b.data)) state.SkipWithError("the hand-written loop disagrees with the engine");
}

// ---- the night's evaluate-and-render stage, 1 and 2 threads -----------------------------------

// What `nudge run` does between loading and the policy: evaluate every account and render
// each candidate action's record, as the policy receives them. The data is `nudge gen`
// output for the example rules (NUDGE_BENCH_NIGHT_ACCOUNTS accounts, default 100,000,
// 90 days), generated once into NUDGE_BENCH_DIR (default /tmp/nudge-bench), the folder
// bench/end_to_end.sh uses.
struct night_bench {
  compiled rules{example_files()};
  runtime::dataset data;
  std::size_t n = 0;

  std::filesystem::path dir;
  runtime::day_number last = *runtime::parse_date("2026-12-03");

  night_bench() {
    const char* env = std::getenv("NUDGE_BENCH_NIGHT_ACCOUNTS");
    n = env != nullptr ? static_cast<std::size_t>(std::atoll(env)) : 100'000;
    const char* root = std::getenv("NUDGE_BENCH_DIR");
    dir = std::filesystem::path(root != nullptr ? root : "/tmp/nudge-bench") / (std::to_string(n) + "x90");
    if (!std::filesystem::exists(dir / "accounts.csv")) {
      runtime::synthetic_options o;
      o.accounts = n;
      o.days = 90;
      o.seed = 1;
      o.last_day = last;
      std::filesystem::remove_all(dir);
      runtime::generate(dir, o);
    }
    runtime::load_result loaded = runtime::load_data(dir, rules.checked, rules.lowered, last, runtime::load_options{2});
    if (loaded.fatal) throw std::runtime_error("bench data: " + *loaded.fatal);
    data = std::move(loaded.data);
  }
};

night_bench& night() {
  static night_bench b;
  return b;
}

void BM_night_evaluate_and_render(benchmark::State& state) {
  night_bench& b = night();
  runtime::night_options o;
  o.threads = static_cast<unsigned>(state.range(0));
  std::size_t candidates = 0;
  for (auto _ : state) {
    runtime::night_candidates out;
    runtime::run_night(b.rules.rules, b.rules.checked, b.rules.lowered, b.data, o, nullptr, nullptr, &out);
    candidates = out.candidates.size();
    benchmark::DoNotOptimize(out.candidates.data());
  }
  state.counters["ns_per_account"] = benchmark::Counter(static_cast<double>(b.data.accounts()),
                                                        benchmark::Counter::kIsIterationInvariantRate |
                                                            benchmark::Counter::kInvert);
  state.counters["candidates"] = static_cast<double>(candidates);
  if (candidates == 0) state.SkipWithError("no candidate actions: the generated data does not fire the plays");
}

// Loading the same data folder (the export in the page cache after the first run).
void BM_load_data(benchmark::State& state) {
  night_bench& b = night();
  std::size_t rows = 0;
  for (auto _ : state) {
    const runtime::load_result loaded = runtime::load_data(b.dir, b.rules.checked, b.rules.lowered, b.last,
                                                           runtime::load_options{static_cast<unsigned>(state.range(0))});
    rows = loaded.stats.rows;
    if (loaded.data.accounts() != b.data.accounts()) state.SkipWithError("a load disagrees with the first one");
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

// ---- checking and compiling a large rule set -------------------------------------------------

void BM_check_and_lower_10k_lines(benchmark::State& state) {
  std::string text = read(NUDGE_SOURCE_DIR "/rules-examples/schema.rule");
  std::size_t lines = 0;
  for (int i = 0; lines < 10'000; ++i) {
    const std::string block = "signal growing_" + std::to_string(i) +
                              " \"Рост\" {\n  title en \"Growth\"\n  let growth = pct_change(arpa, 60d)\n"
                              "  let limit_used = share(usage, plan_limit)\n"
                              "  let busy = count(tickets where topic == \"billing\", 30d)\n"
                              "  when growth >= 15% and limit_used > 50% or busy >= 3\n}\n"
                              "play upsell_" + std::to_string(i) + " on growing_" + std::to_string(i) +
                              " {\n  audience tier in [smb, mid]\n  channel email\n  priority 50\n"
                              "  why_now ru \"Рост {growth}\" en \"Growth {growth}\"\n"
                              "  offer ru \"Пакет\" en \"Bundle\"\n  next_step ru \"Звонок\" en \"Call\"\n}\n";
    text += block;
    lines += static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n'));
  }
  text += "policy { locales ru, en  cap 1 per account per 7d }\n";
  for (auto _ : state) {
    diagnostic_sink sink;
    const compiler::rule_set rules = compiler::from_text("big.rule", text, sink);
    const compiler::program p = compiler::check(rules, sink);
    benchmark::DoNotOptimize(compiler::lower(rules, p));
    if (sink.error_count() > 0) state.SkipWithError(sink.all().front().message.c_str());
  }
  // Shown as time per line: multiply by 1000 for the time per 1,000 lines.
  state.counters["per_line"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsIterationInvariantRate |
                                                                                  benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_handwritten_example_signals)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_engine_example_signals)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_handwritten_five_conditions)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_engine_five_conditions)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_night_evaluate_and_render)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_data)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_check_and_lower_10k_lines)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
