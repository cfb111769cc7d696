#include "runtime/synthetic.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <vector>

namespace nudge::runtime {
namespace {

// SplitMix64: small, fast, and the same numbers on every platform (unlike std distributions).
class rng {
 public:
  explicit rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t s_;
};

constexpr const char* stems[] = {"Ромашка", "Логистик", "Альфа Трак", "Степь", "Kazakh Freight", "Nomad Cargo",
                                 "Silk Way", "Алтын Жол", "TransAsia", "Орда", "Caspian", "Tengri Logistics",
                                 "Жибек Жолы", "Astana Cargo", "Мегаполис", "Atlas"};
constexpr const char* forms[] = {"ТОО ", "", " LLC", " Inc.", "ТОО «", ""};
constexpr const char* topics[] = {"billing", "integrations", "reporting", "access", "performance", "mobile"};
constexpr const char* csms[] = {"Айгуль Сериккызы", "Дана Ахметова", "Ерлан Омаров", "Мария Ким", "Тимур Абенов"};

enum class cohort { stable, growing, declining };

struct account {
  std::string id;
  std::string name;
  int tier = 0;  // 0 smb, 1 mid, 2 enterprise
  bool russian = true;
  std::string csm;
  std::string renewal;
  cohort kind = cohort::stable;
  double arpa = 0;  // KZT today
  int seats = 0;
  int key_total = 8;
  int key_used = 4;
  double plan_limit = 0;
  double usage_share = 0;
  double stickiness = 0;
  bool ticket_burst = false;
  int burst_topic = 0;
  bool slower_replies = false;
  double active_share = 0.9;  // of paid seats; some accounts pay for many idle seats
  int pay_day = 1;
};

std::string noisy_name(rng& r, std::uint64_t i) {
  const std::string stem = stems[i % std::size(stems)];
  std::string form = forms[r.below(std::size(forms))];
  std::string name = form == "ТОО «" ? form + stem + "»" : (form.starts_with("ТОО") ? form + stem : stem + form);
  if (r.chance(0.05)) name = "  " + name + " ";  // stray blanks from the CRM
  return name + fmt::format(" {}", i);
}

}  // namespace

synthetic_stats generate(const std::filesystem::path& dir, const synthetic_options& o) {
  std::filesystem::create_directories(dir);
  rng r(o.seed);
  std::vector<account> accounts(o.accounts);
  for (std::uint64_t i = 0; i < o.accounts; ++i) {
    account& a = accounts[i];
    a.id = fmt::format("acc-{:06}", i + 1);
    a.name = noisy_name(r, i + 1);
    const double t = r.unit();
    a.tier = t < 0.6 ? 0 : t < 0.9 ? 1 : 2;
    a.russian = r.chance(0.7);
    a.csm = a.tier == 0 && r.chance(0.5) ? "" : csms[r.below(std::size(csms))];
    if (!r.chance(0.2)) a.renewal = iso_date(static_cast<day_number>(o.last_day + 1 + static_cast<day_number>(r.below(365))));
    const double k = r.unit();
    a.kind = k < 0.15 ? cohort::growing : k < 0.3 ? cohort::declining : cohort::stable;
    static constexpr double base[] = {120'000, 600'000, 3'000'000};
    a.arpa = base[a.tier] * (0.5 + r.unit());
    a.seats = static_cast<int>((a.tier + 1) * (5 + r.below(20)));
    a.key_used = r.chance(0.2) ? 1 + static_cast<int>(r.below(3)) : 5 + static_cast<int>(r.below(4));
    a.plan_limit = 10'000.0 * (a.tier + 1) * (1 + static_cast<double>(r.below(4)));
    a.usage_share = 0.3 + 0.8 * r.unit();
    a.stickiness = r.chance(0.15) ? 0.05 + 0.15 * r.unit() : 0.3 + 0.4 * r.unit();
    a.ticket_burst = r.chance(0.1);
    a.burst_topic = static_cast<int>(r.below(std::size(topics)));
    a.slower_replies = r.chance(0.1);
    a.active_share = r.chance(0.15) ? 0.4 + 0.3 * r.unit() : 0.9 + 0.1 * r.unit();
    a.pay_day = 1 + static_cast<int>(r.below(28));
  }

  synthetic_stats stats;
  std::ofstream snap(dir / "accounts.csv", std::ios::binary);
  std::ofstream tickets(dir / "tickets.csv", std::ios::binary);
  std::ofstream tx(dir / "transactions.csv", std::ios::binary);
  snap << "account_id,date,name,tier,locale,csm,csm_link,renewal_date,mrr,arpa,plan_limit,usage,dau,mau,seats_paid,"
          "seats_active,key_features_used,key_features_total\n";
  tickets << "account_id,opened,topic,reply_hours\n";
  tx << "account_id,paid_on,amount\n";
  static constexpr const char* tiers[] = {"smb", "mid", "enterprise"};
  fmt::memory_buffer s;
  fmt::memory_buffer tk;
  fmt::memory_buffer tr;
  // Oldest day first, as a daily export appended night after night.
  for (std::uint32_t back = o.days; back-- > 0;) {
    const day_number day = o.last_day - static_cast<day_number>(back);
    const std::string date = iso_date(day);
    const civil_date c = to_civil(day);
    // Monday is 0: 1970-01-01 was a Thursday.
    const int weekday = static_cast<int>((day + 3) % 7 + 7) % 7;
    const double weekend = weekday >= 5 ? 0.55 : 1.0;
    for (account& a : accounts) {
      // Growth and decline happen over the last 60 days.
      const double progress = back < 60 ? (60.0 - back) / 60.0 : 0.0;
      const double trend = a.kind == cohort::growing ? 1.0 + 0.25 * progress
                           : a.kind == cohort::declining ? 1.0 - 0.3 * progress
                                                         : 1.0 + 0.02 * std::sin(back / 9.0);
      const double arpa = a.arpa / (a.kind == cohort::growing ? 1.25 : a.kind == cohort::declining ? 0.7 : 1.0) * trend;
      const auto arpa_tiyn = static_cast<std::int64_t>(std::llround(arpa)) * 100;
      const int mau = std::max(1, a.seats);
      const int dau = std::max(0, static_cast<int>(std::lround(mau * a.stickiness * weekend * trend * (0.9 + 0.2 * r.unit()))));
      const int active = std::max(0, std::min(a.seats, static_cast<int>(std::lround(a.seats * a.active_share * std::min(1.0, trend)))));
      const auto usage = static_cast<std::int64_t>(a.plan_limit * a.usage_share * trend);
      // Amounts are written the way exports do: some with a decimal comma and thin spaces.
      const std::string money = r.chance(0.1) ? fmt::format("\"{} {:03},{:02}\"", arpa_tiyn / 100'000, (arpa_tiyn / 100) % 1000, 0)
                                              : fmt::format("{}.{:02}", arpa_tiyn / 100, arpa_tiyn % 100);
      fmt::format_to(std::back_inserter(s), "{},{},{},{},{},{},https://cal.example/{},{},{},{},{},{},{},{},{},{},{},{}\n",
                     a.id, date, a.name, tiers[a.tier], a.russian ? "ru" : "en", a.csm, a.id, a.renewal, money, money,
                     static_cast<std::int64_t>(a.plan_limit), usage, dau, mau, a.seats, active, a.key_used, a.key_total);
      ++stats.snapshot_rows;
      // Tickets: a background rate, a burst on one topic in the last 30 days for some.
      const double rate = 0.02 * (a.tier + 1) + (a.ticket_burst && back < 30 ? 0.15 : 0.0);
      if (r.chance(rate)) {
        const int topic = a.ticket_burst && back < 30 ? a.burst_topic : static_cast<int>(r.below(std::size(topics)));
        const double hours = (2.0 + 6.0 * r.unit()) * (a.slower_replies ? 1.0 + (60.0 - std::min(back, 60u)) / 40.0 : 1.0);
        fmt::format_to(std::back_inserter(tk), "{},{},{},{:.1f}\n", a.id, date, topics[topic], hours);
        ++stats.tickets;
      }
      if (c.day == a.pay_day && !(a.kind == cohort::declining && back < 30 && r.chance(0.5))) {
        fmt::format_to(std::back_inserter(tr), "{},{},{}.{:02}\n", a.id, date, arpa_tiyn / 100, arpa_tiyn % 100);
        ++stats.transactions;
      }
    }
    snap.write(s.data(), static_cast<std::streamsize>(s.size()));
    tickets.write(tk.data(), static_cast<std::streamsize>(tk.size()));
    tx.write(tr.data(), static_cast<std::streamsize>(tr.size()));
    s.clear();
    tk.clear();
    tr.clear();
  }
  if (o.broken_rows && !accounts.empty()) {
    // What real exports contain: an impossible date, a number with letters, a duplicate.
    const account& a = accounts.front();
    snap << a.id << ",2026-02-30," << a.name << ",smb,ru,,x,,1,1,1,1,1,1,1,1,1,1\n";
    snap << accounts.back().id << "," << iso_date(o.last_day) << ",x,smb,ru,,x,,1,12 abc,1,1,1,1,1,1,1,1\n";
    snap << accounts[accounts.size() / 2].id << "," << iso_date(o.last_day) << ",dup,smb,ru,,x,,1,1,1,1,1,1,1,1,1,1\n";
    tickets << a.id << ",yesterday,billing,3\n";
    stats.broken_rows = 4;
  }
  return stats;
}

}  // namespace nudge::runtime
