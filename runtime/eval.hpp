// Runs the lowered rules over a batch of accounts: one pass of the main program's
// instructions, each a tight loop over the batch. A batch is independent of every other,
// so a run can split the accounts across threads or machines.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir.hpp"
#include "runtime/dataset.hpp"

// The evaluator's loops are compiled twice, for any x86-64 and for x86-64-v3 (AVX2); the
// dynamic loader picks the version the CPU supports when the program starts. 64-bit
// integer comparisons, the bulk of conditions, only vectorise with SSE4 and later.
// Helpers the cloned loops call are always inlined, so that they are compiled twice too.
// Not under ThreadSanitizer, whose instrumented ifunc resolvers run before it starts.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define NUDGE_VECTOR_CLONES __attribute__((target_clones("default", "arch=x86-64-v3")))
#else
#define NUDGE_VECTOR_CLONES
#endif

namespace nudge::runtime {

struct value {
  std::uint8_t state = ir::unknown;
  std::int64_t i = 0;
  double f = 0;
};

// What every evaluator over one dataset shares, computed once per night by bind(): the
// module's text constants as ids in the dataset's string pool, the loaded columns by
// field and day offset and whether each has no missing value, and the order of the texts
// that most_frequent compares on a tie.
struct bound_rules {
  std::vector<std::uint32_t> texts;                    // ir::module::texts -> string id
  std::vector<std::vector<std::int64_t>> text_sets;   // in_text sets, as string ids
  std::vector<int> stream_slot;                        // schema stream -> dataset::streams index
  std::vector<std::vector<const slot_column*>> columns;  // schema field -> day offset -> column
  std::vector<std::vector<bool>> dense;                // the same: every value is present
  std::vector<std::uint32_t> text_rank;                // string id -> rank of its text
};

// Interns the module's text constants in the dataset's pool (so text compares by id) and
// computes the rest of bound_rules.
bound_rules bind(const ir::module& m, dataset& data);

class evaluator {
 public:
  // `bound` comes from bind(m, data) and must outlive the evaluator.
  evaluator(const ir::module& m, const dataset& data, const bound_rules& bound);

  // Evaluates accounts [begin, end); registers then hold their values.
  void run(std::size_t begin, std::size_t end);

  std::size_t batch() const { return end_ - begin_; }
  std::size_t first() const { return begin_; }
  value get(std::uint32_t reg, std::size_t k) const;
  // A yes/no register is true for account k of the batch (present and true).
  // How many accounts of the batch a yes/no register is true for.
  std::size_t count_holding(std::uint32_t reg) const;
  bool holds(std::uint32_t reg, std::size_t k) const {
    return regs_[reg].ps[k] == ir::present && regs_[reg].pi[k] != 0;
  }

 private:
  // A register's values for the batch. Operations read through the pointers, which point
  // at the register's own storage, straight into the dataset (loads), or at a shared
  // all-present state, so loads copy nothing and present values need no state pass.
  struct reg {
    std::vector<std::int64_t> i;
    std::vector<double> f;
    std::vector<std::uint8_t> s;
    const std::int64_t* pi = nullptr;
    const double* pf = nullptr;
    const std::uint8_t* ps = nullptr;
    std::size_t filled = 0;  // constants: how many values are already filled in
    bool constant = false;   // every value is the same present constant: operations read pi[0] / pf[0]
  };

  // The batch's events of one stream, shared by every aggregate over it: each event's
  // account in the batch and its age in days (as-of date minus its date).
  struct stream_batch {
    std::size_t first = 0;  // index of the batch's first event in the stream
    std::size_t count = 0;
    std::vector<std::uint32_t> account;  // each event's account: only for `outer` (accounts_of)
    std::vector<std::uint32_t> age;
    bool ready = false;
    bool accounts = false;
  };
  // The batch's stream events with each event's account filled in.
  const stream_batch& accounts_of(std::size_t slot);

  static void present_state(const std::uint8_t* as, std::uint8_t* ds, reg& d, const std::uint8_t* all, std::size_t n);

  void exec(const ir::program& prog, std::vector<reg>& regs, std::size_t n, bool events, std::size_t stream);
  void window_field(const ir::instr& in, reg& d, std::size_t n, const std::uint8_t* all);
  void window_regs(const ir::instr& in, const std::vector<reg>& regs, reg& d, std::size_t n, const std::uint8_t* all);
  void event_aggregate(const ir::instr& in, reg& out, std::size_t n, const std::uint8_t* all);
  void most_frequent(const ir::instr& in, const event_table& t, const stream_batch& sb, reg& out, std::size_t n);
  const stream_batch& events_of(std::size_t slot);
  void run_event_program(std::uint32_t sub, std::size_t stream_slot);

  const ir::module& m_;
  const dataset& data_;
  const bound_rules& bound_;
  std::vector<reg> regs_;
  std::vector<std::vector<reg>> event_regs_;  // per event program (constants stay filled)
  std::vector<stream_batch> stream_batches_;  // per dataset stream
  std::vector<std::uint8_t> all_present_;
  std::vector<std::uint8_t> event_all_present_;
  // Scratch for aggregates: per account sums, counts, and per event the ones that count.
  std::vector<double> scratch_f_;
  std::vector<std::int64_t> scratch_i_;
  std::vector<std::int64_t> scratch_n_;
  std::vector<std::uint8_t> keep_;
  std::vector<std::uint32_t> value_counts_;  // most_frequent: per value id, zero between accounts
  std::vector<std::uint32_t> prefix_;        // count: running count of kept events
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace nudge::runtime
