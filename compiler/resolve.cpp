// Declarations: the schema's types, unique names, and the graph of signals that refer to
// signals (cycles are errors; the rest is checked in dependency order).
#include <algorithm>
#include <functional>

#include "compiler/checker.hpp"
#include "support/currency.hpp"

namespace nudge::compiler {

std::optional<std::size_t> schema_info::field(std::string_view name) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> schema_info::stream(std::string_view name) const {
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> program::signal(std::string_view name) const {
  for (std::size_t i = 0; i < signals.size(); ++i) {
    if (signals[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> program::play(std::string_view name) const {
  for (std::size_t i = 0; i < plays.size(); ++i) {
    if (plays[i].name == name) return i;
  }
  return std::nullopt;
}

checker::checker(const rule_set& rules, diagnostic_sink& sink) : rules_(rules), sink_(sink) {
  p_.tables.resize(rules.modules.size());
  for (std::size_t m = 0; m < rules.modules.size(); ++m) {
    const std::size_t n = rules.modules[m].exprs.size();
    p_.tables[m].types.assign(n, type{});
    p_.tables[m].symbols.assign(n, symbol{});
    p_.tables[m].lookback.assign(n, 0);
  }
}

program checker::run() {
  collect_declarations();
  build_schema();
  resolve_signal_graph();
  check_policy();  // first: it sets the locales that messages are checked against
  check_signals();
  check_plays();
  lint();
  return std::move(p_);
}

const ast::expr& checker::node(std::uint32_t module, ast::expr_id id) const { return rules_.modules[module].at(id); }

void checker::note_duplicate(std::string_view what, const ast::identifier& again, span first) {
  auto& d = sink_.report(diag::E2002, again.where, std::string(what) + " `" + again.name + "` is declared twice");
  d.notes.push_back({first, "first declared here"});
  d.help = "rename one of them";
}

void checker::collect_declarations() {
  std::vector<span> signal_where;
  std::vector<span> play_where;
  span schema_where;
  std::optional<span> policy_where;
  for (std::uint32_t m = 0; m < rules_.modules.size(); ++m) {
    const ast::module& mod = rules_.modules[m];
    for (const ast::broken_decl& b : mod.broken) {
      if (!b.name.empty()) broken_names_.insert(b.name);
      if (b.keyword == "schema") p_.schema.present = true;  // silence "no schema"
    }
    for (std::uint32_t i = 0; i < mod.schemas.size(); ++i) {
      const ast::schema_decl& s = mod.schemas[i];
      if (!schema_where.end) {
        schema_where = s.where;
        continue;
      }
      auto& d = sink_.report(diag::E2008, s.keyword, "a rule set has one schema, and this is a second");
      d.notes.push_back(
          {span{schema_where.file, schema_where.begin, schema_where.begin + 6}, "the first schema is here"});
      d.help = "merge the fields into the first schema; other files can use it with `use \"schema.rule\"`";
    }
    for (std::uint32_t i = 0; i < mod.signals.size(); ++i) {
      const ast::signal_decl& s = mod.signals[i];
      if (const auto prev = p_.signal(s.name.name)) {
        note_duplicate("signal", s.name, signal_where[*prev]);
        continue;
      }
      signal_info info;
      info.ref = {m, i};
      info.name = s.name.name;
      p_.signals.push_back(std::move(info));
      signal_where.push_back(s.name.where);
    }
    for (std::uint32_t i = 0; i < mod.plays.size(); ++i) {
      const ast::play_decl& pl = mod.plays[i];
      if (const auto prev = p_.play(pl.name.name)) {
        note_duplicate("play", pl.name, play_where[*prev]);
        continue;
      }
      play_info info;
      info.ref = {m, i};
      info.name = pl.name.name;
      info.offer_id = pl.name.name;
      p_.plays.push_back(std::move(info));
      play_where.push_back(pl.name.where);
    }
    for (std::uint32_t i = 0; i < mod.policies.size(); ++i) {
      if (policy_where) {
        auto& d = sink_.report(diag::E2002, mod.policies[i].keyword,
                               "`policy` is declared twice; a rule set has one contact policy");
        d.notes.push_back({*policy_where, "first declared here"});
        d.help = "merge the two policy blocks";
        continue;
      }
      policy_where = mod.policies[i].keyword;
      p_.policy.present = true;
      p_.policy.ref = {m, i};
    }
  }
  if (schema_where.end == 0 && !p_.schema.present && !rules_.incomplete) {
    const span at = rules_.modules.empty() ? span{} : span{0, 0, 0};
    if (!rules_.modules.empty()) {
      sink_.report(diag::E2008, at, "the rule set has no schema").help =
          "declare the account snapshot with `schema { history 365d  mrr: money(KZT) ... }`, "
          "or `use` the file that has it";
    }
  }
}

namespace {

std::optional<type> base_type(std::string_view name) {
  if (name == "text") return type::of(kind::text);
  if (name == "int") return type::of(kind::int_);
  if (name == "number") return type::of(kind::number);
  if (name == "percent") return type::of(kind::percent);
  if (name == "bool") return type::of(kind::bool_);
  if (name == "date") return type::of(kind::date);
  return std::nullopt;
}

constexpr std::string_view type_words[] = {"text", "int", "number", "percent", "bool", "date", "money", "enum"};

}  // namespace

void checker::build_schema() {
  const ast::schema_decl* s = nullptr;
  for (const ast::module& mod : rules_.modules) {
    if (!mod.schemas.empty()) {
      s = &mod.schemas.front();
      break;
    }
  }
  if (s == nullptr) return;
  schema_info& schema = p_.schema;
  schema.present = true;
  schema.where = s->where;
  if (s->history_days.empty()) {
    sink_.report(diag::E4007, s->keyword, "the schema does not say how much history the data keeps").help =
        "add `history 365d` (the days of snapshots and events kept); windows longer than it are errors";
  } else {
    schema.history_days = s->history_days.front().value;
    schema.history_where = s->history_days.front().where;
    if (schema.history_days <= 0) {
      sink_.report(diag::E4008, schema.history_where, "history must be at least one day");
    }
    for (std::size_t i = 1; i < s->history_days.size(); ++i) {
      sink_.report(diag::E4004, s->history_days[i].where, "`history` is given twice in the schema")
          .notes.push_back({schema.history_where, "first given here"});
    }
  }

  auto resolve_type = [&](const ast::type_ref& t, const std::string& owner) {
    type out;
    if (t.name.name == "money") {
      const auto cur = currency_index(t.currency->name);
      if (!cur) {
        std::vector<std::string_view> codes;
        for (const currency& c : known_currencies()) codes.push_back(c.code);
        auto& d = sink_.report(diag::E2005, t.currency->where, "unknown currency `" + t.currency->name + "`");
        const std::string guess = closest(t.currency->name, codes);
        d.help = guess.empty() ? "use an ISO 4217 code such as KZT, USD or EUR" : "did you mean `" + guess + "`?";
        return out;
      }
      out = type::of(kind::money, static_cast<std::uint16_t>(*cur));
    } else if (t.name.name == "enum") {
      enum_info e;
      e.name = owner;
      for (const ast::identifier& v : t.variants) {
        if (std::find(e.variants.begin(), e.variants.end(), v.name) != e.variants.end()) {
          sink_.report(diag::E2002, v.where, "enum variant `" + v.name + "` is listed twice");
          continue;
        }
        e.variants.push_back(v.name);
      }
      schema.enums.push_back(std::move(e));
      out = type::of(kind::enum_, static_cast<std::uint16_t>(schema.enums.size() - 1));
    } else if (const auto b = base_type(t.name.name)) {
      out = *b;
    } else {
      auto& d = sink_.report(diag::E2005, t.name.where, "unknown type `" + t.name.name + "`");
      const std::string guess = closest(t.name.name, type_words);
      d.help = guess.empty() ? "the types are text, int, number, percent, bool, date, money(CUR) and enum(a, b)"
                             : "did you mean `" + guess + "`?";
      return out;
    }
    out.optional = t.optional;
    return out;
  };

  for (const ast::field_decl& f : s->fields) {
    if (const auto prev = schema.field(f.name.name)) {
      note_duplicate("field", f.name, schema.field_where[*prev]);
      continue;
    }
    schema.fields.push_back({f.name.name, resolve_type(f.type, f.name.name), f.column ? f.column->value : f.name.name});
    schema.field_where.push_back(f.name.where);
  }
  for (const ast::stream_decl& st : s->streams) {
    if (const auto prev = schema.stream(st.name.name)) {
      note_duplicate("event stream", st.name, schema.stream_where[*prev]);
      continue;
    }
    if (const auto clash = schema.field(st.name.name)) {
      note_duplicate("name", st.name, schema.field_where[*clash]);
      continue;
    }
    stream_info info;
    info.name = st.name.name;
    std::vector<span> where;
    for (const ast::field_decl& f : st.fields) {
      const auto dup = std::find_if(info.fields.begin(), info.fields.end(),
                                    [&](const field_info& x) { return x.name == f.name.name; });
      if (dup != info.fields.end()) {
        note_duplicate("event field", f.name, where[static_cast<std::size_t>(dup - info.fields.begin())]);
        continue;
      }
      info.fields.push_back(
          {f.name.name, resolve_type(f.type, st.name.name + "." + f.name.name), f.column ? f.column->value : f.name.name});
      where.push_back(f.name.where);
    }
    const auto time = std::find_if(info.fields.begin(), info.fields.end(),
                                   [&](const field_info& x) { return x.name == st.time_field.name; });
    if (time == info.fields.end()) {
      std::vector<std::string> names;
      for (const field_info& f : info.fields) names.push_back(f.name);
      auto& d = sink_.report(diag::E2001, st.time_field.where,
                             "events `" + st.name.name + "` have no field `" + st.time_field.name + "` to date them");
      const std::string guess = closest(st.time_field.name, names);
      d.help = guess.empty() ? "declare it in the block: `" + st.time_field.name + ": date`"
                             : "did you mean `" + guess + "`?";
    } else if (time->t.k != kind::date || time->t.optional) {
      sink_
          .report(diag::E3001, st.time_field.where,
                  "events are dated by `" + st.time_field.name + "`, which is " + type_name(time->t) + ", not date")
          .help = "declare it as `" + st.time_field.name + ": date`";
    } else {
      info.time_field = static_cast<std::size_t>(time - info.fields.begin());
    }
    schema.streams.push_back(std::move(info));
    schema.stream_where.push_back(st.name.where);
  }
}

namespace {

// Visits every expression id reachable from `id`, children first.
void visit(const ast::module& m, ast::expr_id id, const std::function<void(ast::expr_id)>& f) {
  const ast::expr& e = m.at(id);
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, ast::member>) {
          visit(m, k.object, f);
        } else if constexpr (std::is_same_v<K, ast::call>) {
          for (const ast::expr_id a : k.args) visit(m, a, f);
        } else if constexpr (std::is_same_v<K, ast::unary>) {
          visit(m, k.operand, f);
        } else if constexpr (std::is_same_v<K, ast::binary>) {
          visit(m, k.lhs, f);
          visit(m, k.rhs, f);
        } else if constexpr (std::is_same_v<K, ast::in_list>) {
          visit(m, k.value, f);
          for (const ast::expr_id i : k.items) visit(m, i, f);
        } else if constexpr (std::is_same_v<K, ast::between>) {
          visit(m, k.value, f);
          visit(m, k.low, f);
          visit(m, k.high, f);
        } else if constexpr (std::is_same_v<K, ast::where_filter>) {
          visit(m, k.stream, f);
          visit(m, k.predicate, f);
        }
      },
      e.kind);
  f(id);
}

}  // namespace

void checker::resolve_signal_graph() {
  const std::size_t n = p_.signals.size();
  // Which signals each signal names (a name not shadowed by one of its facts or a field).
  for (std::size_t s = 0; s < n; ++s) {
    signal_info& info = p_.signals[s];
    const ast::module& mod = rules_.modules[info.ref.module];
    const ast::signal_decl& decl = mod.signals[info.ref.index];
    auto note_refs = [&](ast::expr_id root) {
      visit(mod, root, [&](ast::expr_id id) {
        const auto* ref = std::get_if<ast::name_ref>(&mod.at(id).kind);
        if (ref == nullptr) return;
        const std::string& nm = ref->name.name;
        for (const ast::let_decl& l : decl.lets) {
          if (l.name.name == nm) return;
        }
        if (p_.schema.field(nm) || p_.schema.stream(nm)) return;
        if (const auto target = p_.signal(nm)) {
          if (std::find(info.depends_on.begin(), info.depends_on.end(), *target) == info.depends_on.end()) {
            info.depends_on.push_back(*target);
          }
        }
      });
    };
    for (const ast::let_decl& l : decl.lets) note_refs(l.value);
    for (const ast::expr_id c : decl.conditions) note_refs(c);
  }
  // Depth-first topological order; a back edge is a cycle, reported once per cycle.
  enum class mark : std::uint8_t { none, active, done };
  std::vector<mark> marks(n, mark::none);
  std::vector<std::size_t> path;
  std::function<void(std::size_t)> walk = [&](std::size_t s) {
    marks[s] = mark::active;
    path.push_back(s);
    for (const std::size_t t : p_.signals[s].depends_on) {
      if (marks[t] == mark::active) {
        const auto from = std::find(path.begin(), path.end(), t);
        std::string cycle;
        for (auto it = from; it != path.end(); ++it) {
          cycle += "`" + p_.signals[*it].name + "` -> ";
        }
        cycle += "`" + p_.signals[t].name + "`";
        const signal_info& head = p_.signals[t];
        const ast::signal_decl& decl = rules_.modules[head.ref.module].signals[head.ref.index];
        auto& d = sink_.report(diag::E2004, decl.name.where, "signals refer to each other in a cycle: " + cycle);
        d.help =
            "a signal may use another signal only if that one does not use it back; move the shared "
            "condition into one of them";
      } else if (marks[t] == mark::none) {
        walk(t);
      }
    }
    path.pop_back();
    marks[s] = mark::done;
    signal_order_.push_back(s);
  };
  for (std::size_t s = 0; s < n; ++s) {
    if (marks[s] == mark::none) walk(s);
  }
  // Signals on a cycle still get an order (the back edge is ignored), so their other errors show.
}

}  // namespace nudge::compiler
