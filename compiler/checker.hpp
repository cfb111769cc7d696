// The checker's shared state, split across resolve.cpp (declarations), expressions.cpp
// (types of expressions), declarations.cpp (plays and policy) and lints.cpp (warnings).
// Internal to compiler/: other phases call check() from check.hpp.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "compiler/rule_set.hpp"
#include "support/diagnostics.hpp"

namespace nudge::compiler {

// What an expression may refer to at the place it is written.
struct scope {
  std::uint32_t module = 0;
  std::optional<std::size_t> signal;  // its facts are visible...
  std::size_t visible_facts = 0;      // ...up to this let (exclusive)
  bool signals_visible = false;       // other signals may be referenced (in signal bodies)
  std::optional<std::size_t> stream;  // inside `where`: the stream's event fields come first
  std::vector<std::string> present;   // optional names proven present by `present(x) and ...`
  bool facts_unknown = false;         // a play whose signal did not resolve: do not guess its facts
};

class checker {
 public:
  checker(const rule_set& rules, diagnostic_sink& sink);
  program run();

 private:
  // resolve.cpp
  void collect_declarations();
  void build_schema();
  void resolve_signal_graph();
  void note_duplicate(std::string_view what, const ast::identifier& again, span first);

  // expressions.cpp
  type expr(ast::expr_id id, const scope& sc, const type* hint = nullptr);
  type value_of(ast::expr_id id, const scope& sc, const type* hint = nullptr);
  type decided(ast::expr_id id, const scope& sc, const type* hint = nullptr);
  type condition(ast::expr_id id, const scope& sc, std::string_view where);
  type name(ast::expr_id id, const ast::name_ref& n, const scope& sc, const type* hint);
  type member(ast::expr_id id, const ast::member& m, const scope& sc);
  type unary(ast::expr_id id, const ast::unary& u, const scope& sc);
  type binary(ast::expr_id id, const ast::binary& b, const scope& sc);
  type arithmetic(const ast::binary& b, type l, type r, const scope& sc);
  type compare(const ast::binary& b, type l, type r, const scope& sc);
  type in_list(ast::expr_id id, const ast::in_list& in, const scope& sc);
  type between(ast::expr_id id, const ast::between& bt, const scope& sc);
  type call(ast::expr_id id, const ast::call& c, const scope& sc);
  type events_arg(ast::expr_id id, const scope& sc);
  std::optional<std::int64_t> window(ast::expr_id id, const scope& sc, std::string_view function);
  bool is_bare_name(ast::expr_id id, const scope& sc) const;
  bool names_signal(ast::expr_id id, const scope& sc) const;
  void add_present(const ast::expr& e, std::uint32_t module, std::vector<std::string>& names) const;
  std::string type_name(const type& t) const { return to_string(t, p_.schema.names()); }
  const ast::expr& node(std::uint32_t module, ast::expr_id id) const;
  span where(const scope& sc, ast::expr_id id) const { return node(sc.module, id).where; }
  std::int64_t& lookback(const scope& sc, ast::expr_id id);
  void check_history(const scope& sc, ast::expr_id id, std::int64_t days);

  // declarations.cpp
  void check_signals();
  void check_plays();
  void check_play(std::size_t index);
  void check_body(const ast::play_body& body, const scope& sc, const ast::play_body* fallback, std::string_view owner,
                  span owner_where, bool require_parts);
  void check_text(const ast::message_text& text, const scope& sc);
  void check_policy();
  std::optional<channel> channel_of(const ast::identifier& id);
  scope account_scope(std::uint32_t module) const;

  // lints.cpp
  void lint();
  void lint_never_true(std::uint32_t module, ast::expr_id id);
  void lint_generic_messages();
  void lint_uncapped_plays();
  void lint_collisions();
  void lint_capped_steps();

  const rule_set& rules_;
  diagnostic_sink& sink_;
  program p_;
  std::set<std::string> broken_names_;     // declarations the parser skipped
  std::vector<std::size_t> signal_order_;  // signals in dependency order, cycles excluded
};

}  // namespace nudge::compiler
