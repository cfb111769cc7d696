// Signals, plays and the contact policy: required parts, settings given once, message
// placeholders and translations, caps and their windows.
#include <algorithm>
#include <array>

#include "compiler/checker.hpp"

namespace nudge::compiler {
namespace {

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

constexpr std::array supported_locales{std::string_view("ru"), std::string_view("en")};
constexpr std::array part_names{std::string_view("why_now"), std::string_view("offer"), std::string_view("next_step")};
constexpr std::array cap_units{std::string_view("offer"),    std::string_view("offers"),  std::string_view("message"),
                               std::string_view("messages"), std::string_view("touch"),   std::string_view("touches"),
                               std::string_view("channel"),  std::string_view("channels")};

bool valid_timezone(std::string_view tz) {
  if (tz == "UTC") return true;
  // IANA names: Area/Location[/Sub], letters, digits, `_`, `-`, `+`.
  const std::size_t slash = tz.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == tz.size()) return false;
  return std::all_of(tz.begin(), tz.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '+' || c == '/';
  });
}

}  // namespace

scope checker::account_scope(std::uint32_t module) const {
  scope sc;
  sc.module = module;
  return sc;
}

std::optional<channel> checker::channel_of(const ast::identifier& id) {
  if (const auto c = channel_named(id.name)) return c;
  const std::string guess = closest(id.name, channel_names);
  sink_
      .report(diag::E2009, id.where,
              "unknown channel " + quoted(id.name) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"))
      .help = "the channels are email, in_app, csm_task and call";
  return std::nullopt;
}

void checker::check_signals() {
  for (const std::size_t s : signal_order_) {
    signal_info& info = p_.signals[s];
    const std::uint32_t m = info.ref.module;
    const ast::signal_decl& decl = rules_.modules[m].signals[info.ref.index];
    scope sc;
    sc.module = m;
    sc.signal = s;
    sc.signals_visible = true;
    std::int64_t lb = 0;
    for (std::size_t i = 0; i < decl.lets.size(); ++i) {
      const ast::let_decl& let = decl.lets[i];
      for (std::size_t j = 0; j < i; ++j) {
        if (decl.lets[j].name.name == let.name.name) note_duplicate("fact", let.name, decl.lets[j].name.where);
      }
      if (const auto f = p_.schema.field(let.name.name)) {
        note_duplicate("name", let.name, p_.schema.field_where[*f]);
      }
      sc.visible_facts = i;
      type t = expr(let.value, sc);
      if (t.k == kind::stream || t.k == kind::column) t = value_of(let.value, sc);
      info.fact_types.push_back(t);
      lb = std::max(lb, lookback(sc, let.value));
    }
    sc.visible_facts = decl.lets.size();
    if (decl.conditions.empty()) {
      sink_.report(diag::E4007, decl.name.where, "signal " + quoted(decl.name.name) + " has no `when` condition").help =
          "say when it fires: `when growth >= 15%`";
    }
    for (std::size_t i = 0; i < decl.conditions.size(); ++i) {
      if (i > 0) {
        sink_
            .report(diag::E4004, decl.condition_keywords[i],
                    "signal " + quoted(decl.name.name) + " has a second `when`")
            .help = "join the conditions with `and` or `or` in one `when`";
      }
      condition(decl.conditions[i], sc, "the signal's `when`");
      lb = std::max(lb, lookback(sc, decl.conditions[i]));
    }
    info.lookback_days = lb;
    for (const ast::title_decl& t : decl.titles) {
      if (!t.locale) continue;
      const auto& locales = p_.policy.locales;
      if (p_.policy.locales_declared && std::find(locales.begin(), locales.end(), t.locale->name) == locales.end()) {
        sink_
            .report(diag::E2009, t.locale->where,
                    "locale " + quoted(t.locale->name) + " is not one of the rule set's locales")
            .help = "list it in the policy: `locales ru, en`";
      }
    }
  }
}

void checker::check_text(const ast::message_text& text, const scope& sc) {
  for (const ast::placeholder& ph : text.placeholders) {
    const std::string& first = ph.path.front().name;
    std::vector<std::string> candidates;
    if (sc.signal) {
      const signal_info& s = p_.signals[*sc.signal];
      const auto& lets = rules_.modules[s.ref.module].signals[s.ref.index].lets;
      for (std::size_t i = 0; i < lets.size(); ++i) {
        candidates.push_back(lets[i].name.name);
        if (ph.path.size() != 1 || lets[i].name.name != first) continue;
        const type t = i < s.fact_types.size() ? s.fact_types[i] : type{};
        if (t.optional && std::find(sc.present.begin(), sc.present.end(), first) == sc.present.end()) {
          sink_
              .report(diag::E3007, ph.where,
                      "placeholder " + quoted("{" + first + "}") + " is optional (" + type_name(t) +
                          ") and may be absent when the message is sent")
              .help = "require it in the signal: `when present(" + first + ") and ...`, or give a default with `??`";
        }
        goto resolved;
      }
    }
    if (ph.path.size() == 2) {
      if (const auto s = p_.signal(first)) {
        const signal_info& info = p_.signals[*s];
        for (const ast::let_decl& l : rules_.modules[info.ref.module].signals[info.ref.index].lets) {
          if (l.name.name == ph.path[1].name) goto resolved;
        }
        sink_.report(diag::E4002, ph.path[1].where,
                     "signal " + quoted(first) + " has no fact " + quoted(ph.path[1].name));
        continue;
      }
    }
    if (ph.path.size() == 1) {
      if (const auto f = p_.schema.field(first)) {
        const type& t = p_.schema.fields[*f].t;
        if (t.optional && std::find(sc.present.begin(), sc.present.end(), first) == sc.present.end()) {
          auto& d = sink_.report(diag::E3007, ph.where,
                                 "placeholder " + quoted("{" + first + "}") + " is optional (" + type_name(t) +
                                     ") and may be absent in the data");
          d.help = "give it a default in the signal: `let " + first + "_text = " + first + " ?? \"...\"`, and use that";
        }
        continue;
      }
      if (p_.schema.stream(first)) {
        sink_.report(diag::E4002, ph.where, quoted(first) + " is an event stream, not a value to print").help =
            "define a fact in the signal, e.g. `let tickets_30d = count(" + first + ", 30d)`";
        continue;
      }
    }
    if (broken_names_.contains(first) || (sc.facts_unknown && ph.path.size() == 1)) continue;
    for (const field_info& f : p_.schema.fields) candidates.push_back(f.name);
    {
      std::string path;
      for (const ast::identifier& part : ph.path) path += (path.empty() ? "" : ".") + part.name;
      const std::string guess = closest(path, candidates);
      auto& d = sink_.report(diag::E4002, ph.where,
                             "placeholder " + quoted("{" + path + "}") + " names no fact of the signal and no field" +
                                 (guess.empty() ? "" : "; did you mean `{" + guess + "}`?"));
      if (guess.empty()) d.help = "define it in the signal with `let " + ph.path.back().name + " = ...`";
    }
    continue;
  resolved:;
  }
}

void checker::check_body(const ast::play_body& body, const scope& sc, const ast::play_body* fallback,
                         std::string_view owner, span owner_where, bool require_parts) {
  auto once = [&](const auto& items, std::string_view setting, auto where_of) {
    for (std::size_t i = 1; i < items.size(); ++i) {
      sink_.report(diag::E4004, where_of(items[i]), std::string(owner) + " sets " + quoted(setting) + " twice")
          .notes.push_back({where_of(items[0]), "first set here"});
    }
  };
  once(body.channels, "channel", [](const ast::identifier& i) { return i.where; });
  once(body.priorities, "priority", [](const ast::int_setting& i) { return i.where; });
  once(body.offer_ids, "offer_id", [](const ast::string_setting& i) { return i.where; });
  for (const ast::identifier& c : body.channels) channel_of(c);
  for (const ast::string_setting& o : body.offer_ids) {
    if (o.value.empty())
      sink_.report(diag::E4007, o.where, "`offer_id` is empty; name the offer, e.g. \"growth_bundle\"");
  }
  if (require_parts && body.channels.empty() && (fallback == nullptr || fallback->channels.empty())) {
    sink_.report(diag::E4007, owner_where, std::string(owner) + " has no `channel`").help =
        "add `channel email` (or in_app, csm_task, call)";
  }
  const auto& locales = p_.policy.locales;
  for (std::size_t k = 0; k < part_names.size(); ++k) {
    const auto kind_k = static_cast<ast::part_kind>(k);
    std::vector<const ast::message_part*> parts;
    for (const ast::message_part& part : body.parts) {
      if (part.kind == kind_k) parts.push_back(&part);
    }
    for (std::size_t i = 1; i < parts.size(); ++i) {
      sink_.report(diag::E4004, parts[i]->keyword, std::string(owner) + " has a second " + quoted(part_names[k])).help =
          "give translations in one part: `" + std::string(part_names[k]) + " ru \"...\" en \"...\"`";
    }
    if (parts.empty()) {
      const bool inherited =
          fallback != nullptr && std::any_of(fallback->parts.begin(), fallback->parts.end(),
                                             [&](const ast::message_part& p) { return p.kind == kind_k; });
      if (require_parts && !inherited) {
        static constexpr std::string_view why[] = {
            "why this matters to the customer now, with a fact: `why_now \"Revenue grew {growth} in 60 days\"`",
            "the personal offer: `offer \"Growth bundle: +50% limits\"`",
            "one simple next step: `next_step \"Book a 15-minute call: {csm_link}\"`"};
        sink_.report(diag::E4001, owner_where, std::string(owner) + " has no " + quoted(part_names[k])).help =
            "every message has four parts (signal, why_now, offer, next_step); add " + std::string(why[k]);
      }
      continue;
    }
    const ast::message_part& part = *parts.front();
    std::vector<std::string> seen;
    for (const ast::localized_text& v : part.variants) {
      const std::string loc = v.locale ? v.locale->name : locales.front();
      const bool known = p_.policy.locales_declared ? std::find(locales.begin(), locales.end(), loc) != locales.end()
                                                    : std::find(supported_locales.begin(), supported_locales.end(),
                                                                loc) != supported_locales.end();
      if (v.locale && !known) {
        sink_.report(diag::E2009, v.locale->where, "locale " + quoted(loc) + " is not one of the rule set's locales")
            .help = "the policy's `locales` lists them; add it there or remove this text";
      } else if (std::find(seen.begin(), seen.end(), loc) != seen.end()) {
        sink_.report(diag::E4004, v.locale ? v.locale->where : v.text.where,
                     quoted(part_names[k]) + " has two texts for locale " + quoted(loc));
      }
      seen.push_back(loc);
      check_text(v.text, sc);
    }
    for (const std::string& loc : locales) {
      if (!p_.policy.locales_declared) break;
      if (std::find(seen.begin(), seen.end(), loc) == seen.end()) {
        sink_.report(diag::E4003, part.keyword, quoted(part_names[k]) + " has no text in " + quoted(loc)).help =
            "add it: `" + std::string(part_names[k]) + " " + loc +
            " \"...\"`; every message is sent in the "
            "account's locale";
      }
    }
  }
}

void checker::check_plays() {
  for (std::size_t pi = 0; pi < p_.plays.size(); ++pi) check_play(pi);
}

void checker::check_play(std::size_t pi) {
  play_info& info = p_.plays[pi];
  const std::uint32_t m = info.ref.module;
  const ast::play_decl& decl = rules_.modules[m].plays[info.ref.index];
  const std::string owner = "play " + quoted(decl.name.name);
  if (!decl.signal) {
    sink_.report(diag::E4001, decl.name.where, owner + " is attached to no signal").help =
        "name the signal it answers: `play " + decl.name.name + " on SIGNAL {`";
  } else if (const auto s = p_.signal(decl.signal->name)) {
    info.signal = s;
    p_.signals[*s].used = true;
  } else if (!broken_names_.contains(decl.signal->name)) {
    std::vector<std::string> names;
    for (const signal_info& si : p_.signals) names.push_back(si.name);
    const std::string guess = closest(decl.signal->name, names);
    auto& d = sink_.report(diag::E2003, decl.signal->where,
                           "play is attached to unknown signal " + quoted(decl.signal->name) +
                               (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
    if (guess.empty()) d.help = "declare it with `signal " + decl.signal->name + " { ... }`";
  }
  const scope account = account_scope(m);
  for (const ast::expr_id a : decl.audiences) condition(a, account, "`audience`");
  for (std::size_t i = 1; i < decl.if_capped.size(); ++i) {
    sink_.report(diag::E4004, decl.if_capped[i].where, owner + " sets `if_capped` twice");
  }
  for (const ast::if_capped_setting& c : decl.if_capped) {
    if (c.defer_days && c.defer_days->value <= 0) {
      sink_.report(diag::E4008, c.defer_days->where, "a deferral must last at least one day");
    }
  }
  scope facts;
  facts.module = m;
  facts.signals_visible = true;
  facts.facts_unknown = decl.signal.has_value() && !info.signal;
  if (info.signal) {
    facts.signal = info.signal;
    const signal_info& s = p_.signals[*info.signal];
    const ast::signal_decl& sd = rules_.modules[s.ref.module].signals[s.ref.index];
    facts.visible_facts = sd.lets.size();
    // A play runs only when its signal fired, so what the `when` proves present is present here.
    for (const ast::expr_id c : sd.conditions) add_present(node(s.ref.module, c), s.ref.module, facts.present);
  }
  check_body(decl.body, facts, nullptr, owner, decl.name.where, decl.steps.empty());
  if (!decl.body.channels.empty()) {
    if (const auto c = channel_named(decl.body.channels.front().name)) info.chan = *c;
  }
  if (!decl.body.priorities.empty()) info.priority = decl.body.priorities.front().value;
  if (!decl.body.offer_ids.empty()) info.offer_id = decl.body.offer_ids.front().value;
  for (std::size_t si = 0; si < decl.steps.size(); ++si) {
    const ast::step_decl& step = decl.steps[si];
    for (std::size_t j = 0; j < si; ++j) {
      if (decl.steps[j].name.name == step.name.name) note_duplicate("step", step.name, decl.steps[j].name.where);
    }
    condition(step.condition, facts, "the step's `when`");
    check_body(step.body, facts, &decl.body, "step " + quoted(step.name.name), step.name.where, true);
    step_info s{step.name.name, info.chan, info.priority, info.offer_id};
    if (!step.body.channels.empty()) {
      if (const auto c = channel_named(step.body.channels.front().name)) s.chan = *c;
    }
    if (!step.body.priorities.empty()) s.priority = step.body.priorities.front().value;
    if (!step.body.offer_ids.empty()) s.offer_id = step.body.offer_ids.front().value;
    info.steps.push_back(std::move(s));
  }
}

void checker::check_policy() {
  if (!p_.policy.present || rules_.modules[p_.policy.ref.module].policies.empty()) return;
  const std::uint32_t m = p_.policy.ref.module;
  const ast::policy_decl& pol = rules_.modules[m].policies[p_.policy.ref.index];
  const scope account = account_scope(m);

  for (std::size_t i = 1; i < pol.locale_settings.size(); ++i) {
    sink_.report(diag::E4004, pol.locale_settings[i], "the policy sets `locales` twice");
  }
  std::vector<std::string> locales;
  for (const ast::identifier& l : pol.locales) {
    if (std::find(supported_locales.begin(), supported_locales.end(), l.name) == supported_locales.end()) {
      sink_.report(diag::E2009, l.where, "unsupported locale " + quoted(l.name)).help =
          "nudge renders messages in `ru` and `en`";
      continue;
    }
    if (std::find(locales.begin(), locales.end(), l.name) != locales.end()) {
      sink_.report(diag::E2002, l.where, "locale " + quoted(l.name) + " is listed twice");
      continue;
    }
    locales.push_back(l.name);
  }
  if (!locales.empty()) {
    p_.policy.locales = std::move(locales);
    p_.policy.locales_declared = true;
  }

  for (std::size_t i = 1; i < pol.timezones.size(); ++i) {
    sink_.report(diag::E4004, pol.timezones[i].where, "the policy sets `timezone` twice");
  }
  if (!pol.timezones.empty()) {
    const ast::string_setting& tz = pol.timezones.front();
    if (!valid_timezone(tz.value)) {
      sink_.report(diag::E2009, tz.where, "timezone " + quoted(tz.value) + " is not an IANA time zone name").help =
          "write it as Area/City, e.g. \"Asia/Almaty\", or \"UTC\"";
    } else {
      p_.policy.timezone = tz.value;
    }
  }

  std::vector<const ast::identifier*> cap_names;
  for (const ast::cap_decl& cap : pol.caps) {
    if (!cap.same_offer && cap.count.value <= 0) {
      sink_
          .report(diag::E4005, cap.count.where,
                  "a cap must allow at least one touch, but this allows " + std::to_string(cap.count.value))
          .help = "to keep accounts from getting messages at all, narrow the play's `audience`";
    }
    if (cap.window.days <= 0) {
      sink_
          .report(diag::E4005, cap.window.where,
                  "a cap's window must be at least one day, but this is " + std::to_string(cap.window.days) + " days")
          .help = "write a positive window such as `per 7d` or `per week`";
    }
    if (cap.unit) {
      if (std::find(cap_units.begin(), cap_units.end(), cap.unit->name) == cap_units.end()) {
        const std::string guess = closest(cap.unit->name, cap_units);
        sink_
            .report(
                diag::E2009, cap.unit->where,
                "unknown cap unit " + quoted(cap.unit->name) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"))
            .help = "count `offers` (touches) or `channels` (distinct channels in the window)";
      } else if (cap.unit->name.starts_with("channel") && cap.scope != ast::cap_scope::account) {
        sink_.report(diag::E4005, cap.unit->where, "a cap on channels counts distinct channels of the account").help =
            "drop `per channel` / `on ...`: `cap 1 channel per account per day`";
      }
    }
    if (cap.channel) channel_of(*cap.channel);
    if (cap.name) {
      for (const ast::identifier* prev : cap_names) {
        if (prev->name == cap.name->name) note_duplicate("cap", *cap.name, prev->where);
      }
      cap_names.push_back(&*cap.name);
    }
  }

  // The runtime keeps an account's quiet periods as one 64-bit set per candidate.
  constexpr std::size_t max_quiets = 64;
  if (pol.quiets.size() > max_quiets) {
    auto& d = sink_.report(diag::E4009, pol.quiets[max_quiets].where,
                           "a policy can have at most " + std::to_string(max_quiets) + " `quiet` lines; this is the " +
                               std::to_string(max_quiets + 1) + "th of " + std::to_string(pol.quiets.size()));
    d.help = "a `quiet` line can cover many accounts with its `when`: merge lines that share a date field";
  }
  for (const ast::quiet_decl& q : pol.quiets) {
    if (q.days.value <= 0) {
      sink_.report(diag::E4008, q.days.where, "a quiet period must last at least one day");
    }
    if (const auto f = p_.schema.field(q.date_field.name)) {
      if (p_.schema.fields[*f].t.k != kind::date) {
        sink_.report(diag::E3001, q.date_field.where,
                     "a quiet period comes before a date, but " + quoted(q.date_field.name) + " is " +
                         type_name(p_.schema.fields[*f].t));
      }
    } else if (p_.schema.present) {
      std::vector<std::string> dates;
      for (const field_info& fi : p_.schema.fields) {
        if (fi.t.k == kind::date) dates.push_back(fi.name);
      }
      const std::string guess = closest(q.date_field.name, dates);
      sink_.report(
          diag::E2001, q.date_field.where,
          "unknown date field " + quoted(q.date_field.name) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
    }
    if (q.condition) condition(*q.condition, account, "the quiet period's `when`");
    for (const ast::identifier& e : q.exempt) {
      if (p_.play(e.name) || broken_names_.contains(e.name)) continue;
      std::vector<std::string> plays;
      for (const play_info& pl : p_.plays) plays.push_back(pl.name);
      const std::string guess = closest(e.name, plays);
      sink_.report(diag::E2001, e.where,
                   "unknown play " + quoted(e.name) + (guess.empty() ? "" : "; did you mean `" + guess + "`?"));
    }
  }

  const bool needs_csm = !pol.capacities.empty() || !pol.approvals.empty();
  if (needs_csm && p_.schema.present && !p_.schema.field("csm")) {
    const span at = !pol.capacities.empty() ? pol.capacities.front().where : pol.approvals.front().where;
    sink_.report(diag::E2001, at, "capacity and approval are per CSM, but the schema has no field `csm`").help =
        "add `csm: text?` (the account's CSM) to the schema";
  }
  for (const ast::capacity_decl& c : pol.capacities) {
    if (c.count.value <= 0) {
      sink_.report(diag::E4005, c.count.where, "a CSM's capacity must be at least one task");
    }
    if (c.window.days <= 0) {
      sink_.report(diag::E4005, c.window.where, "a capacity window must be at least one day");
    }
  }
  for (const ast::approval_decl& a : pol.approvals) {
    if (a.condition) condition(*a.condition, account, "the approval's `when`");
    if (a.expires_days && a.expires_days->value <= 0) {
      sink_.report(diag::E4008, a.expires_days->where, "held actions must stay valid for at least one day");
    }
  }
  for (std::size_t i = 1; i < pol.holdouts.size(); ++i) {
    sink_.report(diag::E4004, pol.holdouts[i].where, "the policy sets `holdout` twice");
  }
  for (const ast::holdout_decl& h : pol.holdouts) {
    if (h.share <= 0 || h.share > 0.5) {
      sink_
          .report(diag::E4006, h.share_where,
                  "a holdout of " + std::string(rules_.sources.file(h.share_where.file).slice(h.share_where)) +
                      " is outside 1%..50%")
          .help = "a control group of 10-15% measures uplift without holding back too many accounts";
    }
    if (h.salt.value.empty()) {
      sink_.report(diag::E4007, h.salt.where, "the holdout salt is empty").help =
          "name the experiment, e.g. `salt \"2026-Q4\"`; changing it re-shuffles the control group";
    }
    if (h.stratify_by) {
      if (const auto f = p_.schema.field(h.stratify_by->name)) {
        const type& t = p_.schema.fields[*f].t;
        if (t.k != kind::money && t.k != kind::int_ && t.k != kind::number) {
          sink_.report(
              diag::E3001, h.stratify_by->where,
              "revenue bands need a number or money field, but " + quoted(h.stratify_by->name) + " is " + type_name(t));
        }
      } else if (p_.schema.present) {
        sink_.report(diag::E2001, h.stratify_by->where, "unknown field " + quoted(h.stratify_by->name));
      }
    }
  }
  for (const ast::pilot_decl& pilot : pol.pilots) {
    for (const ast::string_setting& a : pilot.accounts) {
      if (a.value.empty()) sink_.report(diag::E4007, a.where, "a pilot account id is empty");
    }
  }
}

}  // namespace nudge::compiler
