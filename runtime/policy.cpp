#include "runtime/policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "compiler/program.hpp"
#include "runtime/cells.hpp"
#include "runtime/json_text.hpp"

namespace nudge::runtime {
namespace {

using json = nlohmann::ordered_json;

bool csm_channel(std::uint8_t c) {
  return c == static_cast<std::uint8_t>(compiler::channel::csm_task) ||
         c == static_cast<std::uint8_t>(compiler::channel::call);
}

bool in_window(day_number t, day_number night, const ir::period_code& p) {
  switch (p.kind) {
    case ir::clock::day: return t == night;
    case ir::clock::week: return iso_monday(t) == iso_monday(night) && t <= night;
    case ir::clock::month: {
      const civil_date a = to_civil(t);
      const civil_date b = to_civil(night);
      return a.year == b.year && a.month == b.month && t <= night;
    }
    case ir::clock::rolling: break;
  }
  return t > night - p.days && t <= night;
}

std::string period_text(const ir::period_code& p) {
  switch (p.kind) {
    case ir::clock::day: return "today";
    case ir::clock::week: return "this week";
    case ir::clock::month: return "this month";
    case ir::clock::rolling: break;
  }
  return "in " + std::to_string(p.days) + " days";
}

// Why a cap blocks the action, or an empty string.
std::string blocked_by(const ir::cap_code& cap, const std::vector<const touch*>& touches, const candidate& c,
                       day_number night) {
  std::int64_t n = 0;
  std::vector<std::uint8_t> channels;
  for (const touch* t : touches) {
    if (!in_window(t->night, night, cap.window)) continue;
    switch (cap.kind) {
      case ir::cap_kind::touches: ++n; break;
      case ir::cap_kind::per_channel: n += t->channel == c.channel ? 1 : 0; break;
      case ir::cap_kind::on_channel: n += t->channel == cap.channel && c.channel == cap.channel ? 1 : 0; break;
      case ir::cap_kind::channels:
        if (std::find(channels.begin(), channels.end(), t->channel) == channels.end()) channels.push_back(t->channel);
        break;
      case ir::cap_kind::same_offer:
        if (t->offer_id == c.offer_id) {
          return "offer `" + c.offer_id + "` was already sent on " + iso_date(t->night);
        }
        break;
    }
  }
  if (cap.kind == ir::cap_kind::channels) {
    const bool new_channel = std::find(channels.begin(), channels.end(), c.channel) == channels.end();
    if (new_channel && static_cast<std::int64_t>(channels.size()) >= cap.count) {
      return std::to_string(channels.size()) + " channel(s) already used " + period_text(cap.window);
    }
    return {};
  }
  if (cap.kind != ir::cap_kind::same_offer && n >= cap.count) {
    return std::to_string(n) + " touch(es) already " + period_text(cap.window) + ", the cap allows " +
           std::to_string(cap.count);
  }
  return {};
}

class night_policy {
 public:
  night_policy(const ir::module& m, const std::vector<std::string>& keys, const history& past,
               const holdout_state& holdout, const policy_options& o)
      : m_(m), keys_(keys), past_(past), holdout_(holdout), o_(o) {
    for (const std::string& id : m.policy.pilot) pilot_.insert(account_key(id));
  }

  night_decisions run(const std::vector<candidate>& candidates, const std::vector<double>& bands) {
    // Sized once: growing a vector of a million decisions by doubling touches twice the
    // memory, and fresh memory is what this stage spends most on (docs/performance.md).
    out_.decisions.reserve(candidates.size() + past_.to_expire.size() + past_.to_release.size() +
                           past_.deferred.size());
    tonight_.reserve(keys_.size() / 2);
    expire_held();
    release_approved();
    assign_holdout(bands);
    for (std::size_t i = 0; i < candidates.size();) {
      std::size_t j = i;
      while (j < candidates.size() && candidates[j].account == candidates[i].account) ++j;
      account(candidates, i, j);
      i = j;
    }
    close_deferrals();
    apply_capacity();
    // Carried and closing decisions get their decision fields now; tonight's candidates'
    // when they are written (full_record).
    for (decision& d : out_.decisions) {
      if (d.rendered.empty()) append_decision(d.record, d);
    }
    return std::move(out_);
  }

 private:
  decision base(const candidate& c) const {
    decision d;
    d.night = o_.night;
    d.account = keys_[c.account];
    const ir::play_code& play = m_.plays[c.play];
    d.play = play.name;
    if (c.step >= 0) d.step = play.steps[static_cast<std::size_t>(c.step)].name;
    d.channel = c.channel;
    d.offer_id = c.offer_id;
    d.priority = c.priority;
    d.csm = c.csm;
    d.rules_hash = o_.rules_hash;
    d.rendered = c.record;
    d.task_row = c.task_row;
    return d;
  }

  // A held or released decision carried to tonight: its record, re-stamped.
  decision carried(const decision& from, status what, std::string reason, std::string detail) const {
    decision d = from;
    d.id = 0;
    d.night = o_.night;
    d.what = what;
    d.reason = std::move(reason);
    d.detail = std::move(detail);
    d.since.reset();
    d.expires.reset();
    d.origin = from.id;
    d.rules_hash = o_.rules_hash;
    json j = json::parse(from.record, nullptr, false);
    if (j.is_object()) {
      j["held_on"] = iso_date(from.night);
      j["night"] = iso_date(o_.night);
      j.erase("decision");
      j.erase("reason");
      j.erase("detail");
      j.erase("key");
      j.erase("deferred_since");
      j.erase("expires");
      d.record = j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return d;
  }

  void expire_held() {
    for (const decision& h : past_.to_expire) {
      out_.decisions.push_back(carried(h, status::expired, "approval_expired",
                                       "held #" + std::to_string(h.id) + " got no verdict by " +
                                           iso_date(h.expires.value_or(h.night))));
    }
  }

  void release_approved() {
    for (std::size_t i = 0; i < past_.to_release.size(); ++i) {
      const decision& h = past_.to_release[i];
      decision d = carried(h, status::sent, "approved",
                           "held #" + std::to_string(h.id) + " approved by " + past_.released_by[i]);
      tonight_[d.account].push_back({o_.night, d.channel, d.offer_id, d.csm, false});
      if (csm_channel(d.channel)) released_csm_[d.csm] += 1;
      released_.insert({d.account, d.play});
      out_.releases.emplace_back(h.id, out_.decisions.size());
      out_.decisions.push_back(std::move(d));
    }
  }

  void assign_holdout(const std::vector<double>& bands) {
    if (m_.policy.holdout.empty()) return;
    const ir::holdout_code& h = m_.policy.holdout.front();
    control_.assign(keys_.size(), false);
    struct fresh {
      std::string band;
      std::uint64_t hash;
      std::size_t account;
    };
    std::vector<fresh> news;
    news.reserve(keys_.size() - std::min(keys_.size(), holdout_.control.size()));
    for (std::size_t a = 0; a < keys_.size(); ++a) {
      if (const auto it = holdout_.control.find(keys_[a]); it != holdout_.control.end()) {
        control_[a] = it->second;
        continue;
      }
      const std::string band = bands.empty() ? "all" : revenue_band(bands[a]);
      news.push_back({band, holdout_hash(h.salt, keys_[a]), a});
    }
    std::sort(news.begin(), news.end(), [&](const fresh& x, const fresh& y) {
      return std::tie(x.band, x.hash, keys_[x.account]) < std::tie(y.band, y.hash, keys_[y.account]);
    });
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> counts = holdout_.bands;
    out_.assignments.reserve(news.size());
    for (const fresh& f : news) {
      auto& [total, control] = counts[f.band];
      ++total;
      const bool in = control < std::llround(h.share * static_cast<double>(total));
      control += in ? 1 : 0;
      control_[f.account] = in;
      out_.assignments.push_back({keys_[f.account], f.band, in});
    }
    for (const bool c : control_) out_.control_accounts += c ? 1 : 0;
  }

  // The first reason the policy blocks the action: a quiet period or a cap.
  std::pair<std::string, std::string> blocked(const candidate& c, const std::string& key) const {
    for (std::size_t q = 0; q < m_.policy.quiets.size(); ++q) {
      const ir::quiet_code& quiet = m_.policy.quiets[q];
      if ((c.quiet >> q & 1) == 0) continue;
      if (std::find(quiet.exempt.begin(), quiet.exempt.end(), c.play) != quiet.exempt.end()) continue;
      return {quiet.name, "within " + std::to_string(quiet.days) + " days before the date"};
    }
    std::vector<const touch*> touches;
    if (const auto it = past_.touches.find(key); it != past_.touches.end()) {
      for (const touch& t : it->second) touches.push_back(&t);
    }
    if (const auto it = tonight_.find(key); it != tonight_.end()) {
      for (const touch& t : it->second) touches.push_back(&t);
    }
    for (const ir::cap_code& cap : m_.policy.caps) {
      std::string why = blocked_by(cap, touches, c, o_.night);
      if (!why.empty()) return {cap.name, std::move(why)};
    }
    return {};
  }

  void account(const std::vector<candidate>& cs, std::size_t begin, std::size_t end) {
    std::vector<std::size_t> order;
    for (std::size_t i = begin; i < end; ++i) order.push_back(i);
    // Arbitration: the highest priority wins; ties go to the play whose name sorts first.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (cs[a].priority != cs[b].priority) return cs[a].priority > cs[b].priority;
      return m_.plays[cs[a].play].name < m_.plays[cs[b].play].name;
    });
    const candidate& win = cs[order.front()];
    const std::string& key = keys_[win.account];
    const bool control = !control_.empty() && control_[win.account];
    decision d = base(win);
    const auto open = past_.deferred.find({key, d.play});
    const auto held = past_.held.find({key, d.play});
    if (released_.contains({key, d.play})) {
      d.what = status::suppressed;
      d.reason = "approved_tonight";
      d.detail = "an approved action of this play is sent tonight";
    } else if (held != past_.held.end()) {
      d.what = status::suppressed;
      if (held->second.rejected) {
        d.reason = "rejected";
        d.detail = "#" + std::to_string(held->second.id) + " was rejected by the CSM; not offered again before " +
                   iso_date(held->second.expires.value_or(held->second.night) + 1);
      } else {
        d.reason = "awaiting_approval";
        d.detail = "#" + std::to_string(held->second.id) + " has waited for approval since " + iso_date(held->second.night);
      }
    } else if (auto [reason, why] = blocked(win, key); !reason.empty()) {
      const ir::play_code& play = m_.plays[win.play];
      d.reason = reason;
      d.detail = why;
      const day_number since = open != past_.deferred.end() ? open->second.since.value_or(o_.night) : o_.night;
      if (play.defer && (play.defer_days == 0 || o_.night - since < play.defer_days)) {
        d.what = status::deferred;
        d.since = since;
      } else {
        d.what = status::suppressed;
        if (play.defer) d.detail += "; deferred since " + iso_date(since) + ", gave up";
      }
    } else if (control) {
      d.what = status::held_out;
      d.reason = "holdout";
      d.detail = "control group";
      tonight_[key].push_back({o_.night, d.channel, d.offer_id, d.csm, true});
    } else if (o_.pilot && !pilot_.contains(key)) {
      d.what = status::would_send;
      d.reason = "pilot";
      d.detail = "not on the pilot list";
    } else if (win.approval_days > 0) {
      d.what = status::held;
      d.reason = "approval";
      d.expires = o_.night + static_cast<day_number>(win.approval_days);
      d.detail = "waits for the CSM's approval until " + iso_date(*d.expires);
    } else {
      d.what = status::sent;
      tonight_[key].push_back({o_.night, d.channel, d.offer_id, d.csm, false});
      if (csm_channel(d.channel) && !m_.policy.capacities.empty()) {
        capacity_queue_.push_back({out_.decisions.size(), open != past_.deferred.end() ? open->second.since : std::nullopt});
      }
    }
    if (open != past_.deferred.end()) d.origin = open->second.id;
    if (!past_.deferred.empty()) decided_.insert({key, d.play});
    out_.decisions.push_back(std::move(d));
    for (std::size_t k = 1; k < order.size(); ++k) {
      const candidate& c = cs[order[k]];
      decision l = base(c);
      l.what = status::suppressed;
      l.reason = "arbitration";
      l.detail = "lost to " + m_.plays[win.play].name + " (priority " + std::to_string(win.priority) + ")";
      if (const auto o = past_.deferred.find({key, l.play}); o != past_.deferred.end()) l.origin = o->second.id;
      if (!past_.deferred.empty()) decided_.insert({key, l.play});
      out_.decisions.push_back(std::move(l));
    }
  }

  // Deferrals whose play did not fire again tonight end here, recorded as expired.
  void close_deferrals() {
    for (const auto& [ap, item] : past_.deferred) {
      if (decided_.contains(ap)) continue;
      decision d;
      d.night = o_.night;
      d.account = ap.first;
      d.play = ap.second;
      d.what = status::expired;
      d.reason = "signal_stopped";
      d.detail = "deferred since " + iso_date(item.since.value_or(item.night)) + "; the play no longer fires";
      d.origin = item.id;
      d.rules_hash = o_.rules_hash;
      const json j{{"account", ap.first}, {"night", iso_date(o_.night)}, {"play", ap.second}};
      d.record = j.dump(-1, ' ', false, json::error_handler_t::replace);
      out_.decisions.push_back(std::move(d));
    }
  }

  // CSM capacity: per CSM, what fits tonight is sent (earliest deferred first, then by
  // priority and account); the rest waits for the next night.
  void apply_capacity() {
    if (m_.policy.capacities.empty() || capacity_queue_.empty()) return;
    const day_number from = history_start(m_.policy, o_.night);
    std::unordered_map<std::string, std::vector<day_number>> used;  // csm -> nights of its tasks and calls
    for (const auto& [account, touches] : past_.touches) {
      for (const touch& t : touches) {
        // A control account's shadow task was never given to the CSM.
        if (csm_channel(t.channel) && !t.held_out && t.night >= from) used[t.csm].push_back(t.night);
      }
    }
    for (const auto& [csm, n] : released_csm_) {
      for (std::int64_t i = 0; i < n; ++i) used[csm].push_back(o_.night);
    }
    std::sort(capacity_queue_.begin(), capacity_queue_.end(), [&](const queued& a, const queued& b) {
      const decision& x = out_.decisions[a.index];
      const decision& y = out_.decisions[b.index];
      const day_number sx = a.since.value_or(o_.night);
      const day_number sy = b.since.value_or(o_.night);
      return std::tie(sx, y.priority, x.account) < std::tie(sy, x.priority, y.account);
    });
    for (const queued& q : capacity_queue_) {
      decision& d = out_.decisions[q.index];
      std::vector<day_number>& nights = used[d.csm];
      std::string full;
      for (const ir::capacity_code& cap : m_.policy.capacities) {
        const auto n = std::count_if(nights.begin(), nights.end(),
                                     [&](day_number t) { return in_window(t, o_.night, cap.window); });
        if (n >= cap.count) {
          full = (d.csm.empty() ? std::string("the unassigned queue") : "CSM " + d.csm) + " already has " +
                 std::to_string(n) + " task(s) and call(s) " + period_text(cap.window);
          break;
        }
      }
      if (full.empty()) {
        nights.push_back(o_.night);
        continue;
      }
      d.what = status::deferred;
      d.reason = "capacity";
      d.detail = full + "; waits for the next night";
      d.since = q.since.value_or(o_.night);
    }
  }

  struct queued {
    std::size_t index;
    std::optional<day_number> since;
  };

  const ir::module& m_;
  const std::vector<std::string>& keys_;
  const history& past_;
  const holdout_state& holdout_;
  const policy_options& o_;
  std::unordered_set<std::string> pilot_;
  std::vector<bool> control_;
  std::unordered_map<std::string, std::vector<touch>> tonight_;
  std::unordered_map<std::string, std::int64_t> released_csm_;
  std::set<std::pair<std::string, std::string>> decided_;
  std::set<std::pair<std::string, std::string>> released_;
  std::vector<queued> capacity_queue_;
  night_decisions out_;
};

}  // namespace

day_number history_start(const ir::policy_code& p, day_number night) {
  std::int64_t days = 1;
  for (const ir::cap_code& c : p.caps) days = std::max(days, c.window.days);
  for (const ir::capacity_code& c : p.capacities) days = std::max(days, c.window.days);
  return night - static_cast<day_number>(days) + 1;
}

std::string revenue_band(double value) {
  if (!(value > 0) || !std::isfinite(value)) return "none";
  return std::to_string(static_cast<std::int64_t>(std::floor(2 * std::log10(value))));
}

std::uint64_t holdout_hash(std::string_view salt, std::string_view key) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a over salt, a separator and the key
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (const char c : salt) mix(static_cast<unsigned char>(c));
  mix(0);
  for (const char c : key) mix(static_cast<unsigned char>(c));
  h ^= h >> 33;  // a finaliser, so that keys differing in the last byte spread over the range
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value, bool null_when_empty) {
  if (null_when_empty && value.empty()) {
    append_json_key(out, name);
    out += "null";
  } else {
    append_json_field(out, name, value);
  }
}

// The decision's fields appended to the record that starts at `start` and ends `record`.
// Written by hand rather than through a JSON object: this runs for every candidate of every
// night, and the record's text is already JSON.
void append_decision_at(std::string& record, std::size_t start, const decision& d) {
  if (record.size() == start) record += "{}";
  record.pop_back();  // the closing brace
  const bool empty = record.size() - start <= 1;
  const std::size_t mark = record.size();
  append_field(record, "decision", status_names[static_cast<int>(d.what)], false);
  append_field(record, "reason", d.reason, true);
  append_field(record, "detail", d.detail, true);
  append_field(record, "key",
               iso_date(d.night) + "/" + d.account + "/" + d.play + (d.step.empty() ? "" : "/" + d.step), false);
  if (d.since) append_field(record, "deferred_since", iso_date(*d.since), false);
  if (d.expires) append_field(record, "expires", iso_date(*d.expires), false);
  if (empty) record.erase(mark, 1);  // no comma after `{`
  record += '}';
}

}  // namespace

void append_decision(std::string& record, const decision& d) { append_decision_at(record, 0, d); }

std::string with_decision(std::string_view record, const decision& d) {
  std::string out(record);
  append_decision(out, d);
  return out;
}

void append_full_record(std::string& out, const decision& d) {
  if (!d.record.empty() || d.rendered.empty()) {
    out += d.record;
    return;
  }
  const std::size_t start = out.size();
  out += d.rendered;
  append_decision_at(out, start, d);
}

std::string full_record(const decision& d) {
  if (!d.record.empty() || d.rendered.empty()) return d.record;
  return with_decision(d.rendered, d);
}

night_decisions decide_night(const ir::module& m, const std::vector<std::string>& keys,
                             const std::vector<candidate>& candidates, const std::vector<double>& bands,
                             const history& past, const holdout_state& holdout, const policy_options& o) {
  return night_policy(m, keys, past, holdout, o).run(candidates, bands);
}

}  // namespace nudge::runtime
