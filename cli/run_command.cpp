// `nudge run`: the nightly job. Loads the data, evaluates the rules, applies the contact
// policy against the ledger, writes the night's outbox (JSON Lines, and a CSV of CRM
// tasks) and a summary on stderr.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "cli/rules_input.hpp"
#include "runtime/load.hpp"
#include "runtime/night.hpp"
#include "runtime/night_job.hpp"

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
  std::string ledger;
  bool pilot = false;
  bool dry_run = false;
  bool force = false;
  double wait = 0;
};

// Writes the whole file or nothing: a temporary beside it, renamed over it at the end, so
// a run killed while writing leaves the previous outbox, never half of one.
class atomic_file {
 public:
  explicit atomic_file(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
  }
  ~atomic_file() {
    if (committed_) return;
    out_.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  explicit operator bool() const { return static_cast<bool>(out_); }
  std::ostream& stream() { return out_; }
  bool commit() {
    out_.flush();
    out_.close();
    if (!out_) return false;
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    committed_ = !ec;
    return committed_;
  }

 private:
  std::string path_;
  std::string tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void print_decisions(const std::vector<runtime::decision>& ds) {
  std::map<std::string, std::size_t> by_status;
  std::map<std::string, std::map<std::string, std::size_t>> reasons;
  for (const auto& d : ds) {
    const std::string st(runtime::status_names[static_cast<int>(d.what)]);
    ++by_status[st];
    if (!d.reason.empty()) ++reasons[st][d.reason];
  }
  std::cerr << "  decisions:";
  bool first = true;
  for (const std::string_view st : runtime::status_names) {
    const auto it = by_status.find(std::string(st));
    if (it == by_status.end()) continue;
    std::cerr << (first ? " " : "; ") << st << " " << it->second;
    first = false;
    const auto r = reasons.find(std::string(st));
    if (r != reasons.end() && (st != "sent" || r->second.size() > 0)) {
      std::cerr << " (";
      bool f2 = true;
      for (const auto& [reason, n] : r->second) {
        std::cerr << (f2 ? "" : ", ") << reason << " " << n;
        f2 = false;
      }
      std::cerr << ")";
    }
  }
  if (first) std::cerr << " none";
  std::cerr << "\n";
}

// The night with the contact policy and the ledger.
int run_with_policy(const run_options& o, const compiled_rules& rules, runtime::dataset& data,
                    runtime::night_options options, std::ostream* out, const std::function<bool()>& commit_out,
                    std::ostream* csv, const std::function<bool()>& commit_csv, runtime::job_result& r) {
  runtime::job_options jo;
  jo.ledger = o.ledger;
  jo.pilot = o.pilot;
  jo.dry_run = o.dry_run;
  jo.force = o.force;
  jo.busy_timeout_ms = static_cast<int>(o.wait * 1000);
  jo.night = std::move(options);
  jo.night.task_rows = csv != nullptr;
  try {
    r = runtime::run_job(rules.checked.loaded.rules, rules.checked.checked, rules.lowered, data, jo);
  } catch (const runtime::ledger_error& e) {
    std::cerr << "nudge: error: " << e.what() << "\nnudge: nothing was decided or written\n";
    return exit_code::usage;
  }
  if (r.outcome == runtime::job_outcome::refused) {
    std::cerr << "nudge: refused: " << r.message << "\n";
    return exit_code::refused;
  }
  const auto writing = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < r.decisions.size(); ++i) {
    const auto& d = r.decisions[i];
    if (i == r.decisions.size() / 2) {
      out->flush();
      runtime::test_kill_point("outbox");
    }
    *out << runtime::outbox_line(d) << '\n';
    if (csv != nullptr && d.what == runtime::status::sent) *csv << runtime::task_csv_row(d);
  }
  if (!commit_out() || !commit_csv()) {
    std::cerr << "nudge: error: cannot write the outbox; the night is in the ledger, run again to write it\n";
    return exit_code::usage;
  }
  r.summary.write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - writing).count();
  if (r.outcome == runtime::job_outcome::replayed) {
    std::cerr << "nudge run: " << r.message << "\n";
    print_decisions(r.decisions);
    return exit_code::ok;
  }
  return -1;  // go on with the summary
}

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

  const bool policy = rules->lowered.policy.present;
  std::unique_ptr<atomic_file> out_file;
  std::ostream* out = &std::cout;
  if (!o.out.empty()) {
    out_file = std::make_unique<atomic_file>(o.out);
    if (!*out_file) {
      std::cerr << "nudge: error: cannot write `" << o.out << "`\n";
      return exit_code::usage;
    }
    out = &out_file->stream();
  }
  std::unique_ptr<atomic_file> csv_file;
  if (!o.csv.empty()) {
    csv_file = std::make_unique<atomic_file>(o.csv);
    if (!*csv_file) {
      std::cerr << "nudge: error: cannot write `" << o.csv << "`\n";
      return exit_code::usage;
    }
    csv_file->stream() << runtime::task_csv_header();
  }
  if (!policy && (!o.ledger.empty() || o.pilot || o.dry_run)) {
    std::cerr << "nudge: error: --ledger, --pilot and --dry-run need a `policy` in the rules; these rules have "
                 "none, so every candidate action is written as it is\n";
    return exit_code::usage;
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
  auto commit_out = [&] { return out_file == nullptr ? static_cast<bool>(out->flush()) : out_file->commit(); };
  auto commit_csv = [&] { return csv_file == nullptr || csv_file->commit(); };
  runtime::night_summary s;
  runtime::job_result job;
  if (policy) {
    const int code = run_with_policy(o, *rules, loaded.data, options, out, commit_out,
                                     csv_file ? &csv_file->stream() : nullptr, commit_csv, job);
    if (code >= 0) return code;
    s = job.summary;
  } else {
    s = runtime::run_night(rules->checked.loaded.rules, rules->checked.checked, rules->lowered, loaded.data, options,
                           out, csv_file ? &csv_file->stream() : nullptr);
    if (!commit_out() || !commit_csv()) {
      std::cerr << "nudge: error: cannot write the outbox\n";
      return exit_code::usage;
    }
  }
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
  std::cerr << "\n";
  if (policy) {
    print_decisions(job.decisions);
    std::cerr << "  ledger: " << (o.ledger.empty() ? std::string("none (scratch: caps count tonight only; pass --ledger)") : o.ledger)
              << (o.dry_run ? ", dry run: nothing recorded" : "") << (o.pilot ? ", pilot" : "");
    if (!rules->lowered.policy.holdout.empty()) {
      std::cerr << "; control group " << job.control_accounts << " of " << s.accounts << " accounts";
    }
    std::cerr << "\n";
  }
  std::cerr << "  time: load " << fmt_seconds(load_s) << ", evaluate and render " << fmt_seconds(s.evaluate_seconds);
  if (policy) {
    std::cerr << ", policy and ledger " << fmt_seconds(job.policy_seconds) << " (decide " << fmt_seconds(job.decide_seconds)
              << ", record " << fmt_seconds(job.record_seconds) << ", " << (o.dry_run ? "roll back " : "commit ")
              << fmt_seconds(job.commit_seconds) << ")";
  }
  std::cerr << ", write " << fmt_seconds(s.write_seconds) << " (" << options.threads << " thread"
            << (options.threads == 1 ? "" : "s") << ")\n";
  return exit_code::ok;
}

}  // namespace

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

std::string fmt_row(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::size_t width = i == 0 ? 24 : 11;
    const std::string& c = cells[i];
    const std::string pad(c.size() < width ? width - c.size() : 1, ' ');
    out += i == 0 ? c + pad : pad + c;
  }
  return out + '\n';
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
  sub->add_option("--ledger", o->ledger, "The touch ledger (SQLite), created when missing; caps count what it holds");
  sub->add_flag("--pilot", o->pilot, "Send only to the policy's pilot accounts; record the rest as would_send");
  sub->add_flag("--dry-run", o->dry_run, "Decide the night, write the outbox, record nothing in the ledger");
  sub->add_flag("--force", o->force, "Decide a night older than the ledger's latest");
  sub->add_option("--wait", o->wait, "Seconds to wait for another run holding the ledger (default: refuse at once)");
  return [sub, o]() -> int { return sub->parsed() ? run(*o) : -1; };
}

}  // namespace nudge::cli
