// Runs the lowered rules over a batch of accounts: one pass of the main program's
// instructions, each a tight loop over the batch. A batch is independent of every other,
// so a run can split the accounts across threads or machines.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir.hpp"
#include "runtime/dataset.hpp"

namespace nudge::runtime {

struct value {
  std::uint8_t state = ir::unknown;
  std::int64_t i = 0;
  double f = 0;
};

class evaluator {
 public:
  // `texts` maps ir::module::texts to ids in the dataset's string pool (see bind_texts).
  evaluator(const ir::module& m, const dataset& data, std::vector<std::uint32_t> texts);

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
  };

  static void present_state(const std::uint8_t* as, std::uint8_t* ds, reg& d, const std::uint8_t* all, std::size_t n);

  void exec(const ir::program& prog, std::vector<reg>& regs, std::size_t n, bool events, std::size_t stream);
  void event_aggregate(const ir::instr& in, reg& out, std::size_t n);
  void run_event_program(std::uint32_t sub, std::size_t stream_slot);

  const ir::module& m_;
  const dataset& data_;
  std::vector<std::uint32_t> texts_;
  std::vector<int> stream_slot_;  // schema stream index -> dataset::streams index
  std::vector<std::vector<const slot_column*>> field_columns_;  // schema field -> offset -> column
  std::vector<std::vector<bool>> column_dense_;                 // the same, true when every value is present
  std::vector<reg> regs_;
  std::vector<std::vector<reg>> event_regs_;  // per event program (constants stay filled)
  std::vector<std::uint32_t> event_account_;  // per event of the batch: its account in the batch
  std::vector<std::uint8_t> all_present_;
  std::vector<double> window_sum_;        // scratch for windows over snapshot fields
  std::vector<std::int64_t> window_isum_;
  std::vector<std::int64_t> window_n_;
  std::vector<std::uint8_t> event_all_present_;
  std::vector<std::vector<std::int64_t>> text_sets_;  // in_text sets, as ids in the string pool
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// Interns the module's text constants in the dataset's pool, so text compares by id.
std::vector<std::uint32_t> bind_texts(const ir::module& m, dataset& data);

}  // namespace nudge::runtime
