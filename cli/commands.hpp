// Subcommands of the `nudge` tool. Each registers its options on the CLI11 app and returns the
// process exit code when run: 0 success, 1 problems found in the user's input, 2 usage or I/O.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <functional>

namespace nudge::cli {

enum exit_code : int { ok = 0, findings = 1, usage = 2, refused = 3 };

using command = std::function<int()>;

command add_check(CLI::App& app);
command add_run(CLI::App& app);
command add_explain(CLI::App& app);
command add_gen(CLI::App& app);
command add_build(CLI::App& app);
command add_approvals(CLI::App& app);
command add_backtest(CLI::App& app);
command add_ledger(CLI::App& app);

std::string fmt_seconds(double s);
// One row of a text table: the first cell left-aligned in 24 columns, the rest right-aligned in 11.
std::string fmt_row(const std::vector<std::string>& cells);

}  // namespace nudge::cli
