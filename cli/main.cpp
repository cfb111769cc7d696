// The `nudge` command: dispatches to subcommands and maps failures to exit codes.
#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"nudge: upsell and cross-sell rules for B2B SaaS, checked in CI and run nightly"};
  app.set_version_flag("--version", NUDGE_VERSION);
  app.require_subcommand(1);
  std::vector<nudge::cli::command> commands{nudge::cli::add_check(app), nudge::cli::add_run(app),
                                            nudge::cli::add_explain(app), nudge::cli::add_gen(app),
                                            nudge::cli::add_build(app), nudge::cli::add_approvals(app),
                                            nudge::cli::add_ledger(app), nudge::cli::add_backtest(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return nudge::cli::exit_code::usage;
  }
  try {
    for (const auto& run : commands) {
      const int code = run();
      if (code >= 0) return code;
    }
  } catch (const std::exception& e) {
    // A fault of the machine (out of memory, a broken pipe), never of the user's rules.
    std::cerr << "nudge: internal error: " << e.what() << '\n';
    return nudge::cli::exit_code::usage;
  }
  return nudge::cli::exit_code::usage;
}
