#include "runtime/night.hpp"

#include <chrono>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "runtime/eval.hpp"
#include "runtime/format.hpp"
#include "runtime/json_text.hpp"
#include "support/currency.hpp"

namespace nudge::runtime {
namespace {

using json = nlohmann::ordered_json;

struct shard {
  std::string scratch;  // the record being written
  std::string row;      // its task CSV row
  text_arena texts;     // the candidates' records
  std::string jsonl;
  std::string csv;
  night_summary counts;
  bool collect = false;
  std::vector<candidate> candidates;
  std::vector<double> bands;  // per account of the shard's range
};

class renderer {
 public:
  // `task_rows`: render each candidate's task CSV row too.
  renderer(const compiler::rule_set& rules, const compiler::program& p, const ir::module& m, const dataset& data,
           const night_options& o, bool task_rows)
      : rules_(rules), p_(p), m_(m), data_(data), o_(o), ctx_{p, data.strings}, night_(iso_date(data.as_of)),
        task_rows_(task_rows) {}

  std::size_t locale_of(const evaluator& ev, std::size_t k) const {
    if (m_.locale_reg == ir::none) return 0;
    const value v = ev.get(m_.locale_reg, k);
    if (v.state != ir::present) return 0;
    const std::string& name = p_.schema.enums[p_.schema.fields[static_cast<std::size_t>(m_.locale_field)].t.ref]
                                  .variants[static_cast<std::size_t>(v.i)];
    for (std::size_t l = 0; l < m_.locales.size(); ++l) {
      if (m_.locales[l] == name) return l;
    }
    return 0;
  }

  std::string text(const evaluator& ev, std::size_t k, const ir::part_code& part, std::size_t locale) const {
    if (part.texts.empty()) return {};
    const ir::text_code& t = part.texts[std::min(locale, part.texts.size() - 1)];
    std::string out = t.pieces.front();
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      if (t.values[i].reg != ir::none) out += format_value(ev.get(t.values[i].reg, k), t.values[i], t.locale, ctx_);
      out += t.pieces[i + 1];
    }
    return out;
  }

  // One fact as JSON text: {"value": ..., ["state": ...,] ["currency": ...,] "text": ...}.
  void append_fact(std::string& out, const value& v, const ir::value_ref& how, std::string_view locale) const {
    out += "{\"value\":";
    if (v.state == ir::unknown || v.state == ir::absent) {
      out += "null,\"state\":";
      out += v.state == ir::unknown ? "\"unknown\"" : "\"absent\"";
    } else {
      if (how.how == ir::format::number || how.how == ir::format::percent || how.how == ir::format::signed_percent)
        append_json_double(out, v.f);
      else if (how.how == ir::format::text) append_json_string(out, data_.strings.at(static_cast<std::uint32_t>(v.i)));
      else if (how.how == ir::format::variant)
        append_json_string(out, p_.schema.enums[how.ref].variants[static_cast<std::size_t>(v.i)]);
      else if (how.how == ir::format::date) append_json_string(out, iso_date(static_cast<day_number>(v.i)));
      else if (how.how == ir::format::yes_no) out += v.i != 0 ? "true" : "false";
      else out += std::to_string(v.i);
    }
    if (how.how == ir::format::money) {
      append_json_field(out, "currency", currency_at(how.ref).code);
    }
    append_json_field(out, "text", format_value(v, how, locale, ctx_));
    out += '}';
  }

  void record(const evaluator& ev, std::size_t k, std::size_t play_index, const ir::step_code* step, shard& out) const {
    const ir::play_code& play = m_.plays[play_index];
    const ir::message_code& msg = step != nullptr ? step->message : play.message;
    const ir::signal_code& sig = m_.signals[play.signal];
    const std::size_t locale = locale_of(ev, k);
    const std::string& loc = m_.locales[locale];
    const std::string& account = data_.account_ids[ev.first() + k];
    const std::string& night = night_;
    const source_file& file = rules_.sources.file(msg.where.file);
    const std::string& signal_text = sig.titles[locale];
    const std::string why_now = text(ev, k, msg.why_now, locale);
    const std::string offer = text(ev, k, msg.offer, locale);
    const std::string next_step = text(ev, k, msg.next_step, locale);
    const std::string_view channel = compiler::channel_names[msg.channel];
    // Written as text in the order of docs/data.md: building a JSON object per record cost
    // more than evaluating the account.
    std::string& j = out.scratch;
    j.clear();
    j += '{';
    append_json_field(j, "account", account, true);
    append_json_field(j, "night", night);
    append_json_field(j, "play", play.name);
    append_json_key(j, "step");
    if (step != nullptr) append_json_string(j, step->name);
    else j += "null";
    append_json_field(j, "signal", sig.name);
    append_json_field(j, "channel", channel);
    append_json_key(j, "priority");
    j += std::to_string(msg.priority);
    append_json_field(j, "offer_id", msg.offer_id);
    append_json_field(j, "locale", loc);
    append_json_key(j, "texts");
    j += '{';
    append_json_field(j, "signal", signal_text, true);
    append_json_field(j, "why_now", why_now);
    append_json_field(j, "offer", offer);
    append_json_field(j, "next_step", next_step);
    j += '}';
    append_json_key(j, "facts");
    j += '{';
    for (std::size_t f = 0; f < sig.facts.size(); ++f) {
      append_json_key(j, sig.fact_names[f], f == 0);
      append_fact(j, ev.get(sig.facts[f].reg, k), sig.facts[f], loc);
    }
    j += '}';
    append_json_key(j, "rule");
    j += '{';
    append_json_field(j, "file", file.path(), true);
    append_json_key(j, "line");
    j += std::to_string(file.position(msg.where.begin).line);
    j += '}';
    append_json_field(j, "rules_hash", o_.rules_hash);
    j += '}';
    ++out.counts.actions;
    std::string& row = out.row;
    if (task_rows_) {
      row.clear();
      append_task_csv_row(row, {account, night, channel, msg.priority, signal_text, why_now, offer, next_step,
                                msg.offer_id, play.name, step != nullptr ? std::string_view(step->name) : "", loc});
    }
    if (out.collect) {
      candidate c;
      c.account = static_cast<std::uint32_t>(ev.first() + k);
      c.play = static_cast<std::uint32_t>(play_index);
      c.step = step != nullptr ? static_cast<std::int32_t>(step - play.steps.data()) : -1;
      c.channel = msg.channel;
      c.priority = msg.priority;
      c.offer_id = msg.offer_id;
      policy_facts(ev, k, c);
      c.record = out.texts.add(j);
      if (task_rows_) c.task_row = out.texts.add(row);
      out.candidates.push_back(std::move(c));
      return;
    }
    out.jsonl += j;
    out.jsonl += '\n';
    if (task_rows_) out.csv += row;
  }

  // The account's facts the policy decides on: its CSM, whether an approval condition
  // holds, which quiet periods it is in tonight.
  void policy_facts(const evaluator& ev, std::size_t k, candidate& c) const {
    const ir::policy_code& pol = m_.policy;
    if (pol.csm != ir::none) {
      const value v = ev.get(pol.csm, k);
      if (v.state == ir::present) c.csm = data_.strings.at(static_cast<std::uint32_t>(v.i));
    }
    for (const ir::approval_code& a : pol.approvals) {
      if (a.when == ir::none || ev.holds(a.when, k)) c.approval_days = std::max(c.approval_days, a.expires_days);
    }
    for (std::size_t q = 0; q < pol.quiets.size() && q < 64; ++q) {
      const ir::quiet_code& quiet = pol.quiets[q];
      if (quiet.date == ir::none) continue;
      const value d = ev.get(quiet.date, k);
      if (d.state != ir::present) continue;
      const std::int64_t days = d.i - data_.as_of;
      if (days < 0 || days > quiet.days) continue;
      if (quiet.when != ir::none && !ev.holds(quiet.when, k)) continue;
      c.quiet |= std::uint64_t{1} << q;
    }
  }

  void batch(evaluator& ev, std::size_t begin, std::size_t end, shard& out) const {
    ev.run(begin, end);
    night_summary& c = out.counts;
    c.accounts += end - begin;
    for (std::size_t k = 0; k < end - begin; ++k) {
      for (std::size_t s = 0; s < m_.signals.size(); ++s) {
        const std::uint32_t w = m_.signals[s].when;
        if (w == ir::none) continue;
        if (ev.holds(w, k)) ++c.signal_fired[s];
        else if (ev.get(w, k).state != ir::present) ++c.signal_unknown[s];
      }
      for (std::size_t pl = 0; pl < m_.plays.size(); ++pl) {
        const ir::play_code& play = m_.plays[pl];
        const std::uint32_t w = m_.signals[play.signal].when;
        if (w == ir::none || !ev.holds(w, k)) continue;
        bool audience = true;
        for (const std::uint32_t a : play.audience) audience = audience && ev.holds(a, k);
        if (!audience) continue;
        const ir::step_code* step = nullptr;
        if (!play.steps.empty()) {
          for (const ir::step_code& st : play.steps) {
            if (ev.holds(st.when, k)) {
              step = &st;
              break;
            }
          }
          if (step == nullptr) continue;
        }
        ++c.play_candidates[pl];
        record(ev, k, pl, step, out);
      }
      if (out.collect && !m_.policy.holdout.empty() && m_.policy.holdout.front().band != ir::none) {
        const ir::holdout_code& h = m_.policy.holdout.front();
        const value v = ev.get(h.band, k);
        out.bands.push_back(v.state != ir::present                ? std::nan("")
                            : h.band_rep == ir::rep::f64 ? v.f
                                                         : static_cast<double>(v.i));
      }
    }
  }

 private:
  const compiler::rule_set& rules_;
  const compiler::program& p_;
  const ir::module& m_;
  const dataset& data_;
  const night_options& o_;
  format_context ctx_;
  std::string night_;  // the as-of date, as every record prints it
  bool task_rows_;
};

}  // namespace

std::string task_csv_row(std::string_view record) {
  using json = nlohmann::json;  // lookups only: no need to keep the keys' order
  // The row needs the top-level strings and the texts: the facts and the rule, most of a
  // record's values, are skipped while parsing rather than built and thrown away.
  const json::parser_callback_t skip = [](int depth, json::parse_event_t event, json& parsed) {
    return !(event == json::parse_event_t::key && depth == 1 && (parsed == "facts" || parsed == "rule"));
  };
  const json j = json::parse(record, skip, false);
  if (!j.is_object()) return {};
  // find() on a value that is not an object finds nothing, so a missing or odd field is "".
  auto str = [](const json& object, const char* key) -> std::string_view {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : "";
  };
  static const json none;
  const auto texts_at = j.find("texts");
  const json& texts = texts_at != j.end() ? *texts_at : none;
  auto text = [&](const char* key) { return str(texts, key); };
  const auto priority = j.find("priority");
  std::string out;
  append_task_csv_row(out, {str(j, "account"), str(j, "night"), str(j, "channel"),
                            priority != j.end() && priority->is_number_integer() ? priority->get<std::int64_t>() : 0,
                            text("signal"), text("why_now"), text("offer"), text("next_step"), str(j, "offer_id"),
                            str(j, "play"), str(j, "step"), str(j, "locale")});
  return out;
}

std::string task_csv_row(const decision& d) {
  return !d.task_row.empty() ? std::string(d.task_row) : task_csv_row(full_record(d));
}

void append_task_csv_row(std::string& out, const task_fields& f) {
  // A quoted cell of the concatenated parts, quotes doubled (RFC 4180).
  const auto cell = [&out](std::initializer_list<std::string_view> parts) {
    out += '"';
    for (const std::string_view part : parts) {
      for (const char c : part) {
        if (c == '"') out += '"';
        out += c;
      }
    }
    out += "\",";
  };
  cell({f.account});
  cell({f.night});
  cell({f.channel});
  out += std::to_string(f.priority);
  out += ',';
  cell({f.subject});
  cell({f.why_now, "\n", f.offer, "\n", f.next_step});  // the description: one part per line
  cell({f.offer_id});
  cell({f.play});
  cell({f.step});
  cell({f.locale});
  out.back() = '\n';  // the last cell's comma
}

std::string task_csv_header() {
  return "account_id,due_date,channel,priority,subject,description,offer_id,play,step,locale\n";
}

night_summary run_night(const compiler::rule_set& rules, const compiler::program& checked, const ir::module& m,
                        dataset& data, const night_options& options, std::ostream* jsonl, std::ostream* csv,
                        night_candidates* collect) {
  const auto started = std::chrono::steady_clock::now();
  const bound_rules bound = bind(m, data);
  // Task rows: for the CSV when one is written here, or for the policy's caller when asked.
  const renderer render(rules, checked, m, data, options, collect != nullptr ? options.task_rows : csv != nullptr);
  const std::size_t n = data.accounts();
  const unsigned threads = std::max(1u, std::min<unsigned>(options.threads, static_cast<unsigned>(n / options.batch + 1)));
  std::vector<shard> shards(threads);
  auto work = [&](unsigned t) {
    // Each thread fills a shard of its own, allocated by itself, and hands it over at the
    // end: counters and vector ends that threads update per account must not share cache
    // lines.
    shard local;
    local.counts.signal_fired.assign(m.signals.size(), 0);
    local.counts.signal_unknown.assign(m.signals.size(), 0);
    local.counts.play_candidates.assign(m.plays.size(), 0);
    local.collect = collect != nullptr;
    evaluator ev(m, data, bound);
    const std::size_t from = n * t / threads;
    const std::size_t to = n * (t + 1) / threads;
    for (std::size_t b = from; b < to; b += options.batch) {
      render.batch(ev, b, std::min(to, b + options.batch), local);
      if (t == 0 && options.progress) options.progress(static_cast<double>(b - from) / static_cast<double>(to - from));
    }
    shards[t] = std::move(local);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);  // on this thread
  for (std::thread& th : pool) th.join();
  const auto evaluated = std::chrono::steady_clock::now();
  night_summary total = std::move(shards.front().counts);
  for (std::size_t t = 0; t < shards.size(); ++t) {
    if (t > 0) {
      const night_summary& c = shards[t].counts;
      total.accounts += c.accounts;
      total.actions += c.actions;
      for (std::size_t s = 0; s < c.signal_fired.size(); ++s) {
        total.signal_fired[s] += c.signal_fired[s];
        total.signal_unknown[s] += c.signal_unknown[s];
      }
      for (std::size_t p = 0; p < c.play_candidates.size(); ++p) total.play_candidates[p] += c.play_candidates[p];
    }
    if (collect != nullptr) {
      std::move(shards[t].candidates.begin(), shards[t].candidates.end(), std::back_inserter(collect->candidates));
      collect->bands.insert(collect->bands.end(), shards[t].bands.begin(), shards[t].bands.end());
      collect->texts.push_back(std::move(shards[t].texts));
      shards[t].candidates.clear();
    }
    if (jsonl != nullptr) *jsonl << shards[t].jsonl;
    if (csv != nullptr) *csv << shards[t].csv;
  }
  const auto written = std::chrono::steady_clock::now();
  total.evaluate_seconds = std::chrono::duration<double>(evaluated - started).count();
  total.write_seconds = std::chrono::duration<double>(written - evaluated).count();
  return total;
}

}  // namespace nudge::runtime
