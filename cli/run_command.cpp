// `nudge run`: the nightly job. Loads the data, evaluates the rules, writes the candidate
// actions (JSON Lines, and a CSV of CRM tasks) and a summary on stderr.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"
#include "runtime/load.hpp"
#include "runtime/night.hpp"

namespace nudge::cli {
namespace {

struct run_options {
  std::vector<std::string> rules;
  std::string data;
  std::string as_of;
  std::string out;
  std::string csv;
  std::string quarantine;
  unsigned threads = 0;
};

void write_quarantine(const std::filesystem::path& path, const std::vector<runtime::quarantined_row>& rows) {
  std::ofstream out(path);
  out << "file,line,column,reason,row\n";
  auto cell = [](std::string_view s) {
    std::string o = "\"";
    for (const char c : s) {
      if (c == '"') o += '"';
      o += c;
    }
    return o + "\"";
  };
  for (const auto& r : rows) {
    out << cell(r.file) << ',' << r.line << ',' << r.column << ',' << cell(r.reason) << ',' << cell(r.raw) << '\n';
  }
}

int run(const run_options& o) {
  runtime::day_number as_of = runtime::today_utc();
  if (!o.as_of.empty()) {
    const auto d = runtime::parse_date(o.as_of);
    if (!d) {
      std::cerr << "nudge: error: --as-of `" << o.as_of << "` is not a date in the form YYYY-MM-DD\n";
      return exit_code::usage;
    }
    as_of = *d;
  }
  int exit = 0;
  const auto rules = compile_rules(o.rules, exit);
  if (!rules) return exit;
  const unsigned threads = o.threads != 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  const auto t0 = std::chrono::steady_clock::now();
  runtime::load_result loaded =
      runtime::load_data(o.data, rules->checked.checked, rules->lowered, as_of, runtime::load_options{threads});
  if (loaded.fatal) {
    std::cerr << "nudge: error: " << *loaded.fatal << "\nnudge: nothing was written\n";
    return exit_code::usage;
  }
  const auto t1 = std::chrono::steady_clock::now();

  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (!o.out.empty()) {
    out_file.open(o.out, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::cerr << "nudge: error: cannot write `" << o.out << "`\n";
      return exit_code::usage;
    }
    out = &out_file;
  }
  std::ofstream csv_file;
  if (!o.csv.empty()) {
    csv_file.open(o.csv, std::ios::binary | std::ios::trunc);
    if (!csv_file) {
      std::cerr << "nudge: error: cannot write `" << o.csv << "`\n";
      return exit_code::usage;
    }
    csv_file << runtime::task_csv_header();
  }
  const std::filesystem::path quarantine_path =
      !o.quarantine.empty() ? std::filesystem::path(o.quarantine)
      : !o.out.empty()      ? std::filesystem::path(o.out).parent_path() / "quarantine.csv"
                            : std::filesystem::path("quarantine.csv");
  write_quarantine(quarantine_path, loaded.quarantine);

  runtime::night_options options;
  options.threads = threads;
  options.rules_hash = rules->hash;
  const bool tty = isatty(STDERR_FILENO) != 0;
  options.progress = [tty, t1](double share) {
    if (!tty || std::chrono::steady_clock::now() - t1 < std::chrono::seconds(1)) return;
    const int width = 30;
    const int filled = static_cast<int>(share * width);
    std::cerr << "\r  evaluating [" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << static_cast<int>(share * 100) << "%"
              << std::flush;
  };
  const runtime::night_summary s = runtime::run_night(rules->checked.loaded.rules, rules->checked.checked,
                                                      rules->lowered, loaded.data, options, out,
                                                      o.csv.empty() ? nullptr : &csv_file);
  out->flush();
  if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
  const double load_s = std::chrono::duration<double>(t1 - t0).count();
  const auto& st = loaded.stats;
  std::cerr << "nudge run: night " << runtime::iso_date(as_of) << ", rules " << rules->hash << "\n";
  std::cerr << "  data: " << st.rows << " rows, " << st.outside_window << " outside the window, " << st.quarantined
            << " quarantined (" << quarantine_path.string() << "); " << s.accounts << " accounts tonight, "
            << st.accounts_inactive << " without a snapshot tonight; " << st.events << " events\n";
  std::cerr << "  signals:";
  for (std::size_t i = 0; i < s.signal_fired.size(); ++i) {
    std::cerr << (i ? ", " : " ") << rules->lowered.signals[i].name << " " << s.signal_fired[i];
    if (s.signal_unknown[i] > 0) std::cerr << " (" << s.signal_unknown[i] << " unknown)";
  }
  std::cerr << "\n  candidate actions: " << s.actions;
  for (std::size_t i = 0; i < s.play_candidates.size(); ++i) {
    std::cerr << (i ? ", " : ": ") << rules->lowered.plays[i].name << " " << s.play_candidates[i];
  }
  std::cerr << "\n  time: load " << fmt_seconds(load_s) << ", evaluate and render " << fmt_seconds(s.evaluate_seconds)
            << ", write " << fmt_seconds(s.write_seconds) << " (" << options.threads << " thread"
            << (options.threads == 1 ? "" : "s") << ")\n";
  return exit_code::ok;
}

}  // namespace

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

command add_run(CLI::App& app) {
  auto o = std::make_shared<run_options>();
  CLI::App* sub = app.add_subcommand("run", "Evaluate the rules against account data and write candidate actions");
  sub->add_option("--rules", o->rules, "Rule files or folders, or a bundle from `nudge build`")->required();
  sub->add_option("--data", o->data, "Data folder: accounts.csv and one file per event stream (docs/data.md)")
      ->required();
  sub->add_option("--as-of", o->as_of, "The night's date, YYYY-MM-DD (default: today in UTC)");
  sub->add_option("--out", o->out, "Write the actions (JSON Lines) here instead of stdout");
  sub->add_option("--csv", o->csv, "Also write the actions as CRM tasks (CSV)");
  sub->add_option("--quarantine", o->quarantine, "Where to write unusable rows (default: quarantine.csv beside --out)");
  sub->add_option("--threads", o->threads, "Threads for loading and evaluation (default: all cores)");
  return [sub, o]() -> int { return sub->parsed() ? run(*o) : -1; };
}

}  // namespace nudge::cli
