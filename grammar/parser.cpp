// Drives the PEGTL grammar one declaration at a time and turns its parse tree into the AST.
// PEGTL exceptions never leave this file: they become diagnostics, and parsing resumes at
// the next line that starts a declaration.
#include "grammar/parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <tao/pegtl/contrib/parse_tree.hpp>
#include <tao/pegtl/must_if.hpp>

#include "grammar/rules.hpp"
#include "grammar/text.hpp"

namespace nudge::grammar {
namespace {

namespace pt = pegtl::parse_tree;
using node = pt::node;

struct parse_state {
  int depth = 0;
  file_id file = 0;
  std::vector<span>* comments = nullptr;
};

// Rules through which expressions recurse; their depth is bounded. Each must be selected
// for the parse tree (see selector), or parse_tree bypasses this control.
template <typename Rule>
inline constexpr bool nests =
    std::is_same_v<Rule, expr> || std::is_same_v<Rule, not_prefix> || std::is_same_v<Rule, negation>;

template <typename Rule>
struct guarded : pegtl::normal<Rule> {
  template <typename Input>
  static void start(const Input& in, parse_state& st) {
    if constexpr (nests<Rule>) {
      if (++st.depth > max_nesting) {
        throw pegtl::parse_error("E1004|expression nested too deeply: split it into several `let` facts", in);
      }
    }
  }
  template <typename Input>
  static void success(const Input& /*in*/, parse_state& st) noexcept {
    if constexpr (nests<Rule>) --st.depth;
  }
  template <typename Input>
  static void failure(const Input& /*in*/, parse_state& st) noexcept {
    if constexpr (nests<Rule>) --st.depth;
  }
};

template <typename Rule>
using control = pegtl::must_if<errors, guarded>::control<Rule>;

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

template <>
struct action<comment> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto begin = static_cast<std::uint32_t>(in.position().byte);
    const auto end = begin + static_cast<std::uint32_t>(in.size());
    // Backtracking may match a comment twice; keep each once, in order.
    if (st.comments->empty() || st.comments->back().begin < begin) {
      std::uint32_t trimmed = end;
      const std::string_view text = in.string_view();
      while (trimmed > begin && (text[trimmed - begin - 1] == '\n' || text[trimmed - begin - 1] == '\r')) {
        --trimmed;
      }
      st.comments->push_back(span{st.file, begin, trimmed});
    }
  }
};

// Like parse_tree::fold_one, but a node that keeps several children keeps its span too.
struct fold_one_keep : pt::apply<fold_one_keep> {
  template <typename Node, typename... States>
  static void transform(std::unique_ptr<Node>& n, States&&... /*st*/) noexcept {
    if (n->children.size() == 1) n = std::move(n->children.front());
  }
};

template <typename Rule>
using selector = pt::selector<
    Rule,
    pt::store_content::on<
        // names
        name_ref, member_name, callee, decl_name, let_name, field_name, type_name, currency_name, variant_name,
        stream_name, time_field, channel_name, locale_tag, locale_name, cap_unit, cap_name, quiet_field, stratify_field,
        // literals and operators
        duration_lit, percent_lit, money_lit, number_lit, string_lit, bool_lit, signed_int, signed_duration,
        currency_code, calendar_unit, mul_op, add_op, coalesce_op, cmp_op, and_op, or_op, not_in,
        // expression structure
        call, where_clause, negation, in_tail, list_lit, between_tail, not_prefix,
        // messages
        text_variant, part_item, part_keyword,
        // declarations
        use_decl, schema_decl, field_decl, column_name, type_ref, money_type, enum_type, optional_mark, history_item, events_item,
        signal_decl, signal_title, let_item, when_item, title_item, play_decl, play_signal, audience_item, channel_item,
        priority_item, offer_id_item, if_capped_item, defer_item, step_decl, policy_decl, locales_item, timezone_item,
        cap_item, cap_count, cap_same_offer, per_channel, on_channel, quiet_item, policy_when, exempt_list,
        capacity_item, expires_clause, approval_item, holdout_item, pilot_item>,
    // `expr` is selected (and folded away) because parse_tree calls a control's start()
    // only for selected rules, and the nesting guard counts there.
    fold_one_keep::on<expr, arg, postfix, mul_expr, add_expr, coalesce_expr, cmp_expr, and_expr, or_expr>>;

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Maximum depth of the expression tree built from one declaration; see max_nesting.
constexpr int max_tree_depth = 200;

class converter {
 public:
  converter(const source_file& file, file_id id, ast::module& module, diagnostic_sink& sink)
      : file_(file), id_(id), m_(module), sink_(sink) {}

  void declaration(const node& n) {
    if (n.is_type<use_decl>()) return use(n);
    if (n.is_type<schema_decl>()) return schema(n);
    if (n.is_type<signal_decl>()) return signal(n);
    if (n.is_type<play_decl>()) return play(n);
    if (n.is_type<policy_decl>()) return policy(n);
  }

 private:
  // A node's span without the blanks and comments its rule consumed after the last token.
  span sp(const node& n) const {
    const auto begin = static_cast<std::uint32_t>(n.m_begin.byte);
    auto end = static_cast<std::uint32_t>(n.m_end.byte);
    const std::string& text = file_.text();
    const std::vector<span>& comments = m_.comments;
    while (end > begin) {
      const char c = text[end - 1];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
        --end;
        continue;
      }
      const auto it = std::lower_bound(comments.begin(), comments.end(), end,
                                       [](const span& s, std::uint32_t e) { return s.end < e; });
      if (it == comments.end() || it->end != end || it->begin < begin) break;
      end = it->begin;
    }
    return span{id_, begin, end};
  }
  ast::identifier ident(const node& n) const { return {std::string(n.string_view()), sp(n)}; }

  // ---- literals -------------------------------------------------------------------------------
  static std::string without_underscores(std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c != '_') out += c;
    }
    return out;
  }

  std::int64_t integer(const node& n, std::string_view text) {
    const std::string digits = without_underscores(text);
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || value > max_int_literal) {
      sink_.report(diag::E1007, sp(n), fmt_too_large(text));
      return 0;
    }
    return value;
  }

  double real(std::string_view text) {
    const std::string digits = without_underscores(text);
    return std::strtod(digits.c_str(), nullptr);
  }

  static std::string fmt_too_large(std::string_view text) {
    return "number `" + std::string(text) + "` is too large; the largest accepted is " +
           std::to_string(max_int_literal);
  }

  // A duration such as 60d or 8w, in days.
  std::int64_t duration_days(const node& n) {
    std::string_view text = n.string_view();
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const char unit = text.back();
    std::int64_t value = integer(n, text.substr(0, text.size() - 1));
    if (unit == 'w') value *= 7;
    return negative ? -value : value;
  }

  ast::int_setting int_setting(const node& n) {
    std::string_view text = n.string_view();
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const std::int64_t v = integer(n, text);
    return {negative ? -v : v, sp(n)};
  }

  std::string string_value(const node& n) { return unescape(file_.text(), sp(n)); }

  ast::string_setting string_setting(const node& n) { return {string_value(n), sp(n)}; }

  ast::message_text message(const node& n) { return parse_message(file_.text(), sp(n), sink_); }

  // ---- expressions ----------------------------------------------------------------------------
  ast::expr_id add(span where, ast::expr_kind kind, int depth) {
    if (depth > max_tree_depth) {
      if (!depth_reported_) {
        sink_.report(diag::E1004, where,
                     "expression is too long or nested too deeply: split it into several "
                     "`let` facts");
        depth_reported_ = true;
      }
      kind = ast::error_expr{};
      depth = 1;
    }
    m_.exprs.push_back(ast::expr{where, std::move(kind)});
    depths_.push_back(depth);
    return static_cast<ast::expr_id>(m_.exprs.size() - 1);
  }

  int depth(ast::expr_id id) const { return depths_[ast::index(id)]; }

  span join(ast::expr_id a, ast::expr_id b) const { return span{id_, m_.at(a).where.begin, m_.at(b).where.end}; }

  static ast::binary_op binary_op_of(std::string_view op) {
    if (op == "or") return ast::binary_op::logical_or;
    if (op == "and") return ast::binary_op::logical_and;
    if (op == "==") return ast::binary_op::eq;
    if (op == "!=") return ast::binary_op::ne;
    if (op == "<") return ast::binary_op::lt;
    if (op == "<=") return ast::binary_op::le;
    if (op == ">") return ast::binary_op::gt;
    if (op == ">=") return ast::binary_op::ge;
    if (op == "+") return ast::binary_op::add;
    if (op == "-") return ast::binary_op::sub;
    if (op == "*") return ast::binary_op::mul;
    if (op == "/") return ast::binary_op::div;
    return ast::binary_op::coalesce;
  }

  // [operand, op, operand, op, operand...] folded to the left.
  ast::expr_id chain(const node& n) {
    ast::expr_id acc = expression(*n.children.front());
    for (std::size_t i = 1; i + 1 < n.children.size(); i += 2) {
      const node& op = *n.children[i];
      const ast::expr_id rhs = expression(*n.children[i + 1]);
      acc = add(join(acc, rhs), ast::binary{binary_op_of(op.string_view()), acc, rhs, sp(op)},
                std::max(depth(acc), depth(rhs)) + 1);
    }
    return acc;
  }

  ast::expr_id comparison(const node& n) {
    const ast::expr_id lhs = expression(*n.children[0]);
    const node& tail = *n.children[1];
    const span whole = sp(n);
    if (tail.is_type<cmp_op>()) {
      const ast::expr_id rhs = expression(*n.children[2]);
      return add(whole, ast::binary{binary_op_of(tail.string_view()), lhs, rhs, sp(tail)},
                 std::max(depth(lhs), depth(rhs)) + 1);
    }
    if (tail.is_type<in_tail>()) {
      ast::in_list in{lhs, {}, false, {}};
      int d = depth(lhs);
      for (const auto& c : tail.children) {
        if (c->is_type<not_in>()) {
          in.negated = true;
        } else {
          in.list_where = sp(*c);
          for (const auto& item : c->children) {
            in.items.push_back(expression(*item));
            d = std::max(d, depth(in.items.back()));
          }
        }
      }
      return add(whole, std::move(in), d + 1);
    }
    const ast::expr_id low = expression(*tail.children[0]);
    const ast::expr_id high = expression(*tail.children[1]);
    return add(whole, ast::between{lhs, low, high}, std::max({depth(lhs), depth(low), depth(high)}) + 1);
  }

  ast::expr_id postfix_chain(const node& n) {
    ast::expr_id acc = expression(*n.children.front());
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const node& member = *n.children[i];
      acc = add(span{id_, m_.at(acc).where.begin, sp(member).end}, ast::member{acc, ident(member)}, depth(acc) + 1);
    }
    return acc;
  }

  ast::expr_id call_expr(const node& n) {
    ast::call c{ident(*n.children.front()), {}};
    int d = 0;
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const node& a = *n.children[i];
      ast::expr_id arg_id;
      if (a.is_type<arg>()) {
        // `stream where predicate`
        const ast::expr_id stream = expression(*a.children[0]);
        const ast::expr_id predicate = expression(*a.children[1]->children.front());
        arg_id = add(sp(a), ast::where_filter{stream, predicate}, std::max(depth(stream), depth(predicate)) + 1);
      } else {
        arg_id = expression(a);
      }
      c.args.push_back(arg_id);
      d = std::max(d, depth(arg_id));
    }
    return add(sp(n), std::move(c), d + 1);
  }

  ast::expr_id literal_expr(const node& n) {
    const span where = sp(n);
    const std::string_view text = n.string_view();
    if (n.is_type<duration_lit>()) return add(where, ast::duration_lit{duration_days(n)}, 1);
    if (n.is_type<percent_lit>()) {
      return add(where, ast::percent_lit{real(text.substr(0, text.size() - 1)) / 100.0}, 1);
    }
    if (n.is_type<money_lit>()) {
      const std::size_t space = text.find_first_of(" \t");
      const std::size_t code = text.find_last_of(" \t") + 1;
      ast::identifier currency{std::string(text.substr(code)),
                               span{id_, where.begin + static_cast<std::uint32_t>(code), where.end}};
      return add(where, ast::money_lit{without_underscores(text.substr(0, space)), currency}, 1);
    }
    if (n.is_type<number_lit>()) {
      if (text.find('.') != std::string_view::npos) return add(where, ast::number_lit{real(text)}, 1);
      const std::size_t errors = sink_.error_count();
      const std::int64_t value = integer(n, text);
      if (sink_.error_count() != errors) return add(where, ast::error_expr{}, 1);
      return add(where, ast::int_lit{value}, 1);
    }
    if (n.is_type<string_lit>()) return add(where, ast::string_lit{string_value(n)}, 1);
    if (n.is_type<bool_lit>()) return add(where, ast::bool_lit{text == "true"}, 1);
    return add(where, ast::error_expr{}, 1);
  }

  ast::expr_id expression(const node& n) {
    // `expr` derives from or_expr, so a chain of `or` arrives as an `expr` node.
    if (n.is_type<expr>() || n.is_type<or_expr>() || n.is_type<and_expr>() || n.is_type<coalesce_expr>() ||
        n.is_type<add_expr>() || n.is_type<mul_expr>()) {
      return chain(n);
    }
    if (n.is_type<cmp_expr>()) return comparison(n);
    if (n.is_type<not_prefix>() || n.is_type<negation>()) {
      const ast::expr_id operand = expression(*n.children.front());
      const auto op = n.is_type<not_prefix>() ? ast::unary_op::logical_not : ast::unary_op::negate;
      return add(sp(n), ast::unary{op, operand}, depth(operand) + 1);
    }
    if (n.is_type<postfix>()) return postfix_chain(n);
    if (n.is_type<call>()) return call_expr(n);
    if (n.is_type<name_ref>()) return add(sp(n), ast::name_ref{ident(n)}, 1);
    return literal_expr(n);
  }

  ast::expr_id root_expression(const node& n) {
    depth_reported_ = false;
    return expression(n);
  }

  // ---- declarations ---------------------------------------------------------------------------
  void use(const node& n) { m_.uses.push_back({sp(n), string_setting(*n.children.front())}); }

  ast::type_ref type(const node& n) {
    ast::type_ref t;
    t.where = sp(n);
    for (const auto& c : n.children) {
      if (c->is_type<type_name>()) {
        t.name = ident(*c);
      } else if (c->is_type<money_type>()) {
        t.name = {"money", span{id_, sp(*c).begin, sp(*c).begin + 5}};
        t.currency = ident(*c->children.front());
      } else if (c->is_type<enum_type>()) {
        t.name = {"enum", span{id_, sp(*c).begin, sp(*c).begin + 4}};
        for (const auto& v : c->children) t.variants.push_back(ident(*v));
      } else if (c->is_type<optional_mark>()) {
        t.optional = true;
      }
    }
    return t;
  }

  ast::field_decl field(const node& n) {
    ast::field_decl f{ident(*n.children[0]), type(*n.children[1]), sp(n), std::nullopt};
    if (n.children.size() > 2) f.column = string_setting(*n.children[2]->children.front());
    return f;
  }

  void schema(const node& n) {
    ast::schema_decl s;
    s.where = sp(n);
    s.keyword = span{id_, s.where.begin, s.where.begin + 6};
    for (const auto& c : n.children) {
      if (c->is_type<field_decl>()) {
        s.fields.push_back(field(*c));
      } else if (c->is_type<history_item>()) {
        const node& d = *c->children.front();
        s.history_days.push_back({duration_days(d), sp(d)});
      } else if (c->is_type<events_item>()) {
        ast::stream_decl stream{ident(*c->children[0]), ident(*c->children[1]), {}, sp(*c)};
        for (std::size_t i = 2; i < c->children.size(); ++i) stream.fields.push_back(field(*c->children[i]));
        s.streams.push_back(std::move(stream));
      }
    }
    m_.schemas.push_back(std::move(s));
  }

  void signal(const node& n) {
    ast::signal_decl s;
    s.where = sp(n);
    s.name = ident(*n.children.front());
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const node& c = *n.children[i];
      if (c.is_type<signal_title>()) {
        s.titles.push_back({std::nullopt, string_value(*c.children.front()), sp(c)});
      } else if (c.is_type<title_item>()) {
        s.titles.push_back({ident(*c.children[0]), string_value(*c.children[1]), sp(c)});
      } else if (c.is_type<let_item>()) {
        s.lets.push_back({ident(*c.children[0]), root_expression(*c.children[1]), sp(c)});
      } else if (c.is_type<when_item>()) {
        s.conditions.push_back(root_expression(*c.children.front()));
        s.condition_keywords.push_back(span{id_, sp(c).begin, sp(c).begin + 4});
      }
    }
    m_.signals.push_back(std::move(s));
  }

  ast::message_part part(const node& n) {
    ast::message_part p;
    const node& keyword = *n.children.front();
    const std::string_view k = keyword.string_view();
    p.kind = k == "why_now" ? ast::part_kind::why_now
             : k == "offer" ? ast::part_kind::offer
                            : ast::part_kind::next_step;
    p.keyword = sp(keyword);
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const node& v = *n.children[i];
      ast::localized_text text;
      if (v.children.size() == 2) text.locale = ident(*v.children[0]);
      text.text = message(*v.children.back());
      p.variants.push_back(std::move(text));
    }
    return p;
  }

  // Settings a play shares with its steps; returns false for nodes it does not know.
  bool body_item(const node& c, ast::play_body& body) {
    if (c.is_type<channel_item>()) {
      body.channels.push_back(ident(*c.children.front()));
    } else if (c.is_type<priority_item>()) {
      body.priorities.push_back(int_setting(*c.children.front()));
    } else if (c.is_type<offer_id_item>()) {
      body.offer_ids.push_back(string_setting(*c.children.front()));
    } else if (c.is_type<part_item>()) {
      body.parts.push_back(part(c));
    } else {
      return false;
    }
    return true;
  }

  void play(const node& n) {
    ast::play_decl p;
    p.where = sp(n);
    p.name = ident(*n.children.front());
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const node& c = *n.children[i];
      if (body_item(c, p.body)) continue;
      if (c.is_type<play_signal>()) {
        p.signal = ident(*c.children.front());
      } else if (c.is_type<audience_item>()) {
        p.audiences.push_back(root_expression(*c.children.front()));
        p.audience_keywords.push_back(span{id_, sp(c).begin, sp(c).begin + 8});
      } else if (c.is_type<if_capped_item>()) {
        ast::if_capped_setting s;
        s.where = sp(c);
        if (!c.children.empty()) {
          s.action = ast::capped_action::defer;
          const node& d = *c.children.front();
          if (!d.children.empty()) {
            const node& days = *d.children.front();
            s.defer_days = ast::int_setting{duration_days(days), sp(days)};
          }
        }
        p.if_capped.push_back(s);
      } else if (c.is_type<step_decl>()) {
        ast::step_decl step;
        step.where = sp(c);
        step.name = ident(*c.children[0]);
        step.condition = root_expression(*c.children[1]);
        for (std::size_t j = 2; j < c.children.size(); ++j) body_item(*c.children[j], step.body);
        p.steps.push_back(std::move(step));
      }
    }
    m_.plays.push_back(std::move(p));
  }

  ast::period period_of(const node& n) {
    ast::period p;
    p.where = sp(n);
    if (n.is_type<calendar_unit>()) {
      p.calendar = std::string(n.string_view());
      p.days = p.calendar == "day" ? 1 : p.calendar == "week" ? 7 : 31;
    } else {
      p.days = duration_days(n);
    }
    return p;
  }

  ast::cap_decl cap(const node& n) {
    ast::cap_decl cap;
    cap.where = sp(n);
    const node& body = *n.children.front();
    if (body.is_type<cap_same_offer>()) {
      cap.same_offer = true;
      cap.count = {1, sp(body)};
    }
    for (const auto& c : body.children) {
      if (c->is_type<signed_int>()) {
        cap.count = int_setting(*c);
      } else if (c->is_type<cap_unit>()) {
        cap.unit = ident(*c);
      } else if (c->is_type<per_channel>()) {
        cap.scope = ast::cap_scope::account_per_channel;
      } else if (c->is_type<on_channel>()) {
        cap.scope = ast::cap_scope::account_on_channel;
        cap.channel = ident(*c->children.front());
      } else {
        cap.window = period_of(*c);
      }
    }
    if (n.children.size() > 1) cap.name = ident(*n.children[1]);
    return cap;
  }

  void policy(const node& n) {
    ast::policy_decl p;
    p.where = sp(n);
    p.keyword = span{id_, p.where.begin, p.where.begin + 6};
    for (const auto& c : n.children) {
      if (c->is_type<locales_item>()) {
        p.locale_settings.push_back(sp(*c));
        for (const auto& l : c->children) p.locales.push_back(ident(*l));
      } else if (c->is_type<timezone_item>()) {
        p.timezones.push_back(string_setting(*c->children.front()));
      } else if (c->is_type<cap_item>()) {
        p.caps.push_back(cap(*c));
      } else if (c->is_type<quiet_item>()) {
        ast::quiet_decl q;
        q.where = sp(*c);
        q.days = {duration_days(*c->children[0]), sp(*c->children[0])};
        q.date_field = ident(*c->children[1]);
        for (std::size_t i = 2; i < c->children.size(); ++i) {
          const node& k = *c->children[i];
          if (k.is_type<policy_when>()) q.condition = root_expression(*k.children.front());
          if (k.is_type<exempt_list>()) {
            for (const auto& e : k.children) q.exempt.push_back(ident(*e));
          }
        }
        p.quiets.push_back(std::move(q));
      } else if (c->is_type<capacity_item>()) {
        p.capacities.push_back({sp(*c), int_setting(*c->children[0]), period_of(*c->children[1])});
      } else if (c->is_type<approval_item>()) {
        ast::approval_decl a;
        a.where = sp(*c);
        for (const auto& k : c->children) {
          if (k->is_type<policy_when>()) a.condition = root_expression(*k->children.front());
          if (k->is_type<expires_clause>()) {
            const node& d = *k->children.front();
            a.expires_days = ast::int_setting{duration_days(d), sp(d)};
          }
        }
        p.approvals.push_back(a);
      } else if (c->is_type<holdout_item>()) {
        ast::holdout_decl h;
        h.where = sp(*c);
        const node& share = *c->children[0];
        const std::string_view text = share.string_view();
        h.share = real(text.substr(0, text.size() - 1)) / 100.0;
        h.share_where = sp(share);
        h.salt = string_setting(*c->children[1]);
        if (c->children.size() > 2) h.stratify_by = ident(*c->children[2]);
        p.holdouts.push_back(std::move(h));
      } else if (c->is_type<pilot_item>()) {
        ast::pilot_decl pilot;
        pilot.where = sp(*c);
        for (const auto& a : c->children) pilot.accounts.push_back(string_setting(*a));
        p.pilots.push_back(std::move(pilot));
      }
    }
    m_.policies.push_back(std::move(p));
  }

  static constexpr std::int64_t max_int_literal = 1'000'000'000'000'000LL;

  const source_file& file_;
  file_id id_;
  ast::module& m_;
  diagnostic_sink& sink_;
  std::vector<int> depths_;
  bool depth_reported_ = false;
};

// ---- recovery ---------------------------------------------------------------------------------

constexpr std::string_view declaration_keywords[] = {"schema", "signal", "play", "policy", "use"};

// If a declaration keyword starts at `pos` (followed by a space, `{` or `"`), its length.
std::size_t keyword_at(std::string_view text, std::size_t pos) {
  for (const std::string_view k : declaration_keywords) {
    if (text.substr(pos, k.size()) != k) continue;
    const std::size_t after = pos + k.size();
    if (after >= text.size()) return 0;
    const char c = text[after];
    if (c == ' ' || c == '\t' || c == '{' || c == '"') return k.size();
  }
  return 0;
}

// The first line after `from` whose first word starts a declaration.
std::size_t next_declaration(std::string_view text, std::size_t from) {
  std::size_t pos = text.find('\n', from);
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 1;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
    if (start < text.size() && keyword_at(text, start) != 0) return start;
    pos = text.find('\n', start);
  }
  return text.size();
}

ast::broken_decl broken_at(std::string_view text, std::size_t start, file_id id, std::size_t end) {
  ast::broken_decl b;
  b.where = span{id, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)};
  const std::size_t k = keyword_at(text, start);
  if (k == 0) return b;
  b.keyword = std::string(text.substr(start, k));
  std::size_t pos = start + k;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  const std::size_t name_begin = pos;
  while (pos < text.size() && is_ident_char(text[pos])) ++pos;
  b.name = std::string(text.substr(name_begin, pos - name_begin));
  return b;
}

// The span of the token at an error position: a word, one character, or nothing at the end.
span token_at(std::string_view text, std::size_t pos, file_id id) {
  std::size_t end = pos;
  if (pos < text.size()) {
    if (is_ident_char(text[pos])) {
      while (end < text.size() && is_ident_char(text[end])) ++end;
    } else if (text[pos] != '\n' && text[pos] != '\r') {
      ++end;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
  }
  return span{id, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(end)};
}

std::string describe_token(std::string_view text, span token) {
  if (token.begin >= text.size()) return "end of file";
  if (token.begin == token.end) return "end of line";
  return "`" + std::string(text.substr(token.begin, token.end - token.begin)) + "`";
}

void report_parse_error(const pegtl::parse_error& e, const source_file& file, file_id id, diagnostic_sink& sink) {
  const std::string_view what = e.message();
  diag kind = diag::E1001;
  std::string_view message = what;
  if (const std::size_t bar = what.find('|'); bar != std::string_view::npos) {
    const std::string_view code = what.substr(0, bar);
    for (const diag_info& k : all_diagnostic_kinds()) {
      if (k.code == code) kind = k.kind;
    }
    message = what.substr(bar + 1);
  }
  const std::size_t pos = e.positions().empty() ? 0 : e.positions().front().byte;
  const span token = token_at(file.text(), pos, id);
  std::string text(message);
  if (kind == diag::E1001) text += ", found " + describe_token(file.text(), token);
  sink.report(kind, token, std::move(text));
}

// Files must be UTF-8 text; a NUL byte or a bad sequence stops parsing of that file.
bool check_encoding(const source_file& file, file_id id, diagnostic_sink& sink) {
  const std::string& t = file.text();
  if (const std::size_t nul = t.find('\0'); nul != std::string::npos) {
    sink.report(diag::E1003, span{id, static_cast<std::uint32_t>(nul), static_cast<std::uint32_t>(nul + 1)},
                "file contains a NUL byte at offset " + std::to_string(nul) + "; rule files are UTF-8 text");
    return false;
  }
  if (const std::size_t bad = first_invalid_utf8(t); bad != std::string::npos) {
    sink.report(diag::E1002, span{id, static_cast<std::uint32_t>(bad), static_cast<std::uint32_t>(bad + 1)},
                "invalid UTF-8 byte 0x" + hex_byte(static_cast<unsigned char>(t[bad])) + "; save the file as UTF-8");
    return false;
  }
  return true;
}

}  // namespace

ast::module parse(const source_file& file, file_id id, diagnostic_sink& sink) {
  ast::module m;
  m.file = id;
  if (!check_encoding(file, id, sink)) {
    m.skipped = true;
    return m;
  }
  const std::string& text = file.text();
  if (text.size() > std::numeric_limits<std::uint32_t>::max() / 2) {
    sink.report(diag::E1003, span{id, 0, 0}, "file is too large to be a rule file");
    return m;
  }
  parse_state st{0, id, &m.comments};
  converter conv(file, id, m, sink);
  std::size_t offset = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // a UTF-8 byte order mark
  while (offset < text.size()) {
    pegtl::memory_input in(text.data() + offset, text.data() + text.size(), file.path(), offset, 1, 1);
    pegtl::parse<ws, action, control>(in, st);
    offset = static_cast<std::size_t>(in.current() - text.data());
    if (offset >= text.size()) break;
    st.depth = 0;
    try {
      const auto root = pt::parse<must<declaration>, node, selector, action, control>(in, st);
      if (root && !root->children.empty()) conv.declaration(*root->children.front());
      offset = static_cast<std::size_t>(in.current() - text.data());
    } catch (const pegtl::parse_error& e) {
      report_parse_error(e, file, id, sink);
      const std::size_t error_at = e.positions().empty() ? offset : e.positions().front().byte;
      const std::size_t resume = next_declaration(text, std::max(offset, error_at));
      m.broken.push_back(broken_at(text, offset, id, resume));
      offset = resume;
    }
  }
  return m;
}

}  // namespace nudge::grammar
