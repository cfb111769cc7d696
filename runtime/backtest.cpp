#include "runtime/backtest.hpp"

#include <algorithm>

#include "runtime/load.hpp"

namespace nudge::runtime {
namespace {

void tally(play_tally& t, const decision& d) {
  const std::string what(status_names[static_cast<int>(d.what)]);
  ++t.decisions[what];
  if (d.what != status::sent && !d.reason.empty()) ++t.reasons[what + ": " + d.reason];
  // Releases of approvals and closing records are not candidates of the night.
  const bool carried = d.reason == "approved" || d.reason == "approval_expired" || d.reason == "signal_stopped";
  if (!carried) ++t.candidates;
}

}  // namespace

backtest_result backtest(const backtest_rules& r, const std::filesystem::path& data, day_number from, day_number to,
                         unsigned threads, bool pilot) {
  backtest_result out;
  backtest_report& rep = out.report;
  rep.from = from;
  rep.to = to;
  rep.rules_hash = r.hash;
  rep.total.play = "total";
  std::map<std::string, std::size_t> index;
  for (const ir::play_code& p : r.lowered.plays) {
    index[p.name] = rep.plays.size();
    rep.plays.push_back({p.name, 0, {}, {}});
  }
  ledger scratch(":memory:");
  std::map<std::pair<std::string, day_number>, std::size_t> per_week;
  std::map<std::pair<std::string, day_number>, std::size_t> per_night;
  for (day_number night = from; night <= to; ++night) {
    load_result loaded = load_data(data, r.checked, r.lowered, night, load_options{threads});
    if (loaded.fatal) {
      out.fatal = "night " + iso_date(night) + ": " + *loaded.fatal;
      return out;
    }
    job_options o;
    o.pilot = pilot;
    o.night.threads = threads;
    o.night.rules_hash = r.hash;
    const job_result j = run_job(r.rules, r.checked, r.lowered, loaded.data, o, scratch);
    ++rep.nights;
    rep.accounts = std::max(rep.accounts, j.summary.accounts);
    for (const decision& d : j.decisions) {
      if (const auto it = index.find(d.play); it != index.end()) tally(rep.plays[it->second], d);
      tally(rep.total, d);
      if (d.what != status::sent) continue;
      ++per_week[{d.account, iso_monday(d.night)}];
      ++per_night[{d.account, d.night}];
      ++rep.sent_per_account[d.account];
      rep.offers_per_account[d.account].insert(d.offer_id);
      ++rep.sent_per_play[d.play];
    }
  }
  std::vector<std::size_t> weeks;
  for (const auto& [key, n] : per_week) weeks.push_back(n);
  std::sort(weeks.begin(), weeks.end());
  rep.touched_weeks = weeks.size();
  if (!weeks.empty()) {
    rep.max_per_week = weeks.back();
    rep.p95_per_week = weeks[std::min(weeks.size() - 1, (weeks.size() * 95 + 99) / 100 - 1)];
  }
  for (const auto& [account, n] : rep.sent_per_account) rep.most_touched.emplace_back(account, n);
  std::stable_sort(rep.most_touched.begin(), rep.most_touched.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (rep.most_touched.size() > 10) rep.most_touched.resize(10);
  for (const auto& [key, n] : per_night) {
    if (n > 1) rep.busy_days.push_back({key.first, key.second, n});
  }
  return out;
}

}  // namespace nudge::runtime
