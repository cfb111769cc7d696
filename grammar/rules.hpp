// The PEGTL grammar of the .rule language: one named rule per line, error messages in one
// table (error_message below). Included only by parser.cpp and the grammar test, never by
// other phases, so the template-heavy code compiles once.
#pragma once

#include <tao/pegtl.hpp>

namespace nudge::grammar {

namespace pegtl = tao::pegtl;
using pegtl::alnum;
using pegtl::alpha;
using pegtl::at;
using pegtl::digit;
using pegtl::eof;
using pegtl::eolf;
using pegtl::identifier_first;
using pegtl::identifier_other;
using pegtl::list;
using pegtl::must;
using pegtl::not_at;
using pegtl::not_one;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::rep;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::string;
using pegtl::until;
using pegtl::ascii::lower;
using pegtl::ascii::upper;

// ---- lexical --------------------------------------------------------------------------------
struct comment : seq<one<'#'>, until<eolf>> {};
struct blank : sor<plus<one<' ', '\t', '\r', '\n', '\f', '\v'>>, comment> {};
struct ws : star<blank> {};

template <typename Key>
struct key : seq<Key, not_at<identifier_other>> {};
#define NUDGE_KW(name, text) \
  struct name : key<TAO_PEGTL_STRING(text)> {}
NUDGE_KW(kw_and, "and");
NUDGE_KW(kw_or, "or");
NUDGE_KW(kw_not, "not");
NUDGE_KW(kw_in, "in");
NUDGE_KW(kw_between, "between");
NUDGE_KW(kw_where, "where");
NUDGE_KW(kw_true, "true");
NUDGE_KW(kw_false, "false");
NUDGE_KW(kw_let, "let");
NUDGE_KW(kw_when, "when");
NUDGE_KW(kw_use, "use");
NUDGE_KW(kw_schema, "schema");
NUDGE_KW(kw_signal, "signal");
NUDGE_KW(kw_play, "play");
NUDGE_KW(kw_policy, "policy");
NUDGE_KW(kw_history, "history");
NUDGE_KW(kw_events, "events");
NUDGE_KW(kw_at, "at");
NUDGE_KW(kw_money, "money");
NUDGE_KW(kw_enum, "enum");
NUDGE_KW(kw_title, "title");
NUDGE_KW(kw_on, "on");
NUDGE_KW(kw_audience, "audience");
NUDGE_KW(kw_channel, "channel");
NUDGE_KW(kw_priority, "priority");
NUDGE_KW(kw_offer_id, "offer_id");
NUDGE_KW(kw_why_now, "why_now");
NUDGE_KW(kw_offer, "offer");
NUDGE_KW(kw_next_step, "next_step");
NUDGE_KW(kw_step, "step");
NUDGE_KW(kw_if_capped, "if_capped");
NUDGE_KW(kw_defer, "defer");
NUDGE_KW(kw_suppress, "suppress");
NUDGE_KW(kw_up, "up");
NUDGE_KW(kw_to, "to");
NUDGE_KW(kw_locales, "locales");
NUDGE_KW(kw_timezone, "timezone");
NUDGE_KW(kw_cap, "cap");
NUDGE_KW(kw_same, "same");
NUDGE_KW(kw_per, "per");
NUDGE_KW(kw_account, "account");
NUDGE_KW(kw_as, "as");
NUDGE_KW(kw_quiet, "quiet");
NUDGE_KW(kw_before, "before");
NUDGE_KW(kw_except, "except");
NUDGE_KW(kw_capacity, "capacity");
NUDGE_KW(kw_csm, "csm");
NUDGE_KW(kw_approval, "approval");
NUDGE_KW(kw_by, "by");
NUDGE_KW(kw_expires, "expires");
NUDGE_KW(kw_holdout, "holdout");
NUDGE_KW(kw_salt, "salt");
NUDGE_KW(kw_pilot, "pilot");
NUDGE_KW(kw_day, "day");
NUDGE_KW(kw_week, "week");
NUDGE_KW(kw_month, "month");
NUDGE_KW(kw_from, "from");
#undef NUDGE_KW

// Words that can never be names: they would make expressions ambiguous.
struct reserved : sor<kw_and, kw_or, kw_not, kw_in, kw_between, kw_where, kw_true, kw_false, kw_let, kw_when> {};
struct name : seq<not_at<reserved>, identifier_first, star<identifier_other>> {};

// ---- literals -------------------------------------------------------------------------------
struct digits : seq<digit, star<opt<one<'_'>>, digit>> {};
struct decimal : seq<digits, opt<one<'.'>, digits>> {};
struct duration_lit : seq<digits, one<'d', 'w'>, not_at<identifier_other>> {};
struct percent_lit : seq<decimal, one<'%'>> {};
struct currency_code : seq<rep<3, upper>, not_at<identifier_other>> {};
struct money_lit : seq<decimal, plus<one<' ', '\t'>>, currency_code> {};
struct number_lit : seq<decimal, not_at<identifier_other>> {};
struct int_lit : seq<digits, not_at<one<'.'>>, not_at<identifier_other>> {};
struct signed_int : seq<opt<one<'-'>>, int_lit> {};
struct signed_duration : seq<opt<one<'-'>>, duration_lit> {};

struct escape_char : one<'"', '\\', 'n', 't', '{', '}'> {};
struct escape : seq<one<'\\'>, must<escape_char>> {};
struct string_char : sor<escape, not_one<'\n', '\r', '"', '\\'>> {};
struct string_body : until<one<'"'>, string_char> {};
struct string_lit : seq<one<'"'>, must<string_body>> {};

struct bool_lit : sor<kw_true, kw_false> {};

// ---- expressions ----------------------------------------------------------------------------
struct expr;

struct paren_open : one<'('> {};
struct paren_close : one<')'> {};
struct bracket_close : one<']'> {};
struct paren_expr : seq<paren_open, ws, must<expr>, must<paren_close>> {};

struct where_clause : seq<kw_where, ws, must<expr>> {};
struct arg : seq<expr, opt<where_clause>> {};
struct call_args : list<arg, seq<one<','>, ws>> {};
struct callee : name {};
struct call : seq<callee, one<'('>, ws, opt<call_args>, must<paren_close>> {};
struct name_ref : name {};

struct literal : sor<duration_lit, percent_lit, money_lit, number_lit, string_lit, bool_lit> {};
struct primary : seq<sor<paren_expr, literal, call, name_ref>, ws> {};
struct member_name : name {};
struct member_suffix : seq<one<'.'>, ws, must<member_name>, ws> {};
struct postfix : seq<primary, star<member_suffix>> {};

struct unary;
struct neg_op : one<'-'> {};
struct negation : seq<neg_op, ws, must<unary>> {};
struct unary : sor<negation, postfix> {};

struct mul_op : one<'*', '/'> {};
struct mul_expr : seq<unary, star<mul_op, ws, must<unary>>> {};
struct add_op : seq<one<'+', '-'>> {};
struct add_expr : seq<mul_expr, star<add_op, ws, must<mul_expr>>> {};
struct coalesce_op : string<'?', '?'> {};
struct coalesce_expr : seq<add_expr, star<coalesce_op, ws, must<add_expr>>> {};

struct cmp_op : sor<string<'=', '='>, string<'!', '='>, string<'<', '='>, string<'>', '='>, one<'<'>, one<'>'>> {};
struct cmp_tail : seq<cmp_op, ws, must<coalesce_expr>> {};
struct list_items : list<seq<expr, ws>, seq<one<','>, ws>> {};
struct list_lit : sor<seq<one<'['>, ws, opt<list_items>, must<bracket_close>>,
                      seq<one<'('>, ws, opt<list_items>, must<paren_close>>> {};
struct not_in : seq<kw_not, ws, kw_in> {};
struct in_tail : seq<sor<not_in, kw_in>, ws, must<list_lit>, ws> {};
struct between_and : kw_and {};
struct between_tail : seq<kw_between, ws, must<coalesce_expr>, must<between_and>, ws, must<coalesce_expr>> {};
struct cmp_expr : seq<coalesce_expr, opt<sor<cmp_tail, in_tail, between_tail>>> {};

struct not_expr;
struct not_prefix : seq<kw_not, ws, must<not_expr>> {};
struct not_expr : sor<not_prefix, cmp_expr> {};
struct and_op : kw_and {};
struct and_expr : seq<not_expr, star<and_op, ws, must<not_expr>>> {};
struct or_op : kw_or {};
struct or_expr : seq<and_expr, star<or_op, ws, must<and_expr>>> {};
struct expr : or_expr {};

// ---- message texts --------------------------------------------------------------------------
struct locale_tag : seq<rep<2, lower>, opt<one<'_', '-'>, rep<2, upper>>, not_at<identifier_other>> {};
struct text_variant : seq<opt<locale_tag, ws>, string_lit, ws> {};
struct text_variants : plus<text_variant> {};

// ---- schema ---------------------------------------------------------------------------------
struct type_name : name {};
struct currency_name : name {};
struct variant_name : name {};
struct optional_mark : one<'?'> {};
struct money_type : seq<kw_money, ws, must<paren_open>, ws, must<currency_name>, ws, must<paren_close>> {};
struct enum_type : seq<kw_enum, ws, must<paren_open>, ws, must<variant_name>, ws,
                       star<one<','>, ws, must<variant_name>, ws>, must<paren_close>> {};
struct type_ref : seq<sor<money_type, enum_type, type_name>, opt<optional_mark>> {};
struct field_name : name {};
// `mrr: money(KZT) from "MRR, ₸"` reads the field from a CRM export column of another name.
struct column_name : seq<kw_from, ws, must<string_lit>, ws> {};
struct field_decl : seq<field_name, ws, one<':'>, ws, must<type_ref>, ws, opt<column_name>> {};
struct history_item : seq<kw_history, ws, must<duration_lit>, ws> {};
struct brace_open : one<'{'> {};
struct schema_close : one<'}'> {};
struct stream_close : one<'}'> {};
struct stream_name : name {};
struct time_field : name {};
struct events_item : seq<kw_events, ws, must<stream_name>, ws, must<kw_at>, ws, must<time_field>, ws, must<brace_open>,
                         ws, star<field_decl>, must<stream_close>, ws> {};
struct schema_item : sor<field_decl, history_item, events_item> {};
struct schema_decl : seq<kw_schema, ws, must<brace_open>, ws, star<schema_item>, must<schema_close>, ws> {};

// ---- signals --------------------------------------------------------------------------------
struct decl_name : name {};
struct let_name : name {};
struct let_eq : one<'='> {};
struct let_item : seq<kw_let, ws, must<let_name>, ws, must<let_eq>, ws, must<expr>> {};
struct when_item : seq<kw_when, ws, must<expr>> {};
struct title_item : seq<kw_title, ws, must<locale_tag>, ws, must<string_lit>, ws> {};
struct signal_title : seq<string_lit, ws> {};
struct signal_item : sor<let_item, when_item, title_item> {};
struct signal_close : one<'}'> {};
struct signal_decl : seq<kw_signal, ws, must<decl_name>, ws, opt<signal_title>, must<brace_open>, ws, star<signal_item>,
                         must<signal_close>, ws> {};

// ---- plays ----------------------------------------------------------------------------------
struct channel_name : name {};
struct channel_item : seq<kw_channel, ws, must<channel_name>, ws> {};
struct priority_item : seq<kw_priority, ws, must<signed_int>, ws> {};
struct offer_id_item : seq<kw_offer_id, ws, must<string_lit>, ws> {};
struct part_keyword : sor<kw_why_now, kw_offer, kw_next_step> {};
struct part_item : seq<part_keyword, ws, must<text_variants>> {};
struct audience_item : seq<kw_audience, ws, must<expr>> {};
struct defer_item : seq<kw_defer, ws, opt<kw_up, ws, must<kw_to>, ws, must<duration_lit>, ws>> {};
struct capped_choice : sor<defer_item, seq<kw_suppress, ws>> {};
struct if_capped_item : seq<kw_if_capped, ws, must<capped_choice>> {};
struct step_close : one<'}'> {};
struct step_item : sor<channel_item, priority_item, offer_id_item, part_item> {};
struct step_decl : seq<kw_step, ws, must<decl_name>, ws, must<kw_when>, ws, must<expr>, must<brace_open>, ws,
                       star<step_item>, must<step_close>, ws> {};
struct play_signal : seq<kw_on, ws, must<decl_name>, ws> {};
struct play_item
    : sor<audience_item, channel_item, priority_item, offer_id_item, part_item, if_capped_item, step_decl> {};
struct play_close : one<'}'> {};
struct play_decl : seq<kw_play, ws, must<decl_name>, ws, opt<play_signal>, must<brace_open>, ws, star<play_item>,
                       must<play_close>, ws> {};

// ---- policy ---------------------------------------------------------------------------------
struct locale_name : name {};
struct locales_item : seq<kw_locales, ws, must<locale_name>, ws, star<one<','>, ws, must<locale_name>, ws>> {};
struct timezone_item : seq<kw_timezone, ws, must<string_lit>, ws> {};
struct calendar_unit : sor<kw_day, kw_week, kw_month> {};
struct period : sor<signed_duration, calendar_unit> {};
struct per_account : seq<kw_per, ws, kw_account, ws> {};
struct per_channel : seq<kw_per, ws, kw_channel, ws> {};
struct on_channel : seq<kw_on, ws, must<channel_name>, ws> {};
struct per_period : seq<kw_per, ws, must<period>, ws> {};
struct cap_unit : seq<not_at<kw_per>, name> {};
struct cap_count
    : seq<signed_int, ws, opt<cap_unit, ws>, must<per_account>, opt<sor<per_channel, on_channel>>, must<per_period>> {};
struct cap_same_offer : seq<kw_same, ws, must<kw_offer>, ws, must<per_account>, must<per_period>> {};
struct cap_body : sor<cap_same_offer, cap_count> {};
struct cap_name : name {};
struct cap_item : seq<kw_cap, ws, must<cap_body>, opt<kw_as, ws, must<cap_name>, ws>> {};
struct exempt_list : seq<kw_except, ws, must<decl_name>, ws, star<one<','>, ws, must<decl_name>, ws>> {};
struct policy_when : seq<kw_when, ws, must<expr>> {};
struct quiet_field : name {};
struct quiet_item : seq<kw_quiet, ws, must<signed_duration>, ws, must<kw_before>, ws, must<quiet_field>, ws,
                        opt<policy_when>, opt<exempt_list>> {};
struct capacity_item
    : seq<kw_capacity, ws, must<signed_int>, ws, must<kw_per>, ws, must<kw_csm>, ws, must<per_period>> {};
struct expires_clause : seq<kw_expires, ws, must<signed_duration>, ws> {};
struct approval_item : seq<kw_approval, ws, must<kw_by>, ws, must<kw_csm>, ws, opt<policy_when>, opt<expires_clause>> {
};
struct stratify_field : name {};
struct holdout_item : seq<kw_holdout, ws, must<percent_lit>, ws, must<kw_salt>, ws, must<string_lit>, ws,
                          opt<kw_by, ws, must<stratify_field>, ws>> {};
struct pilot_open : one<'['> {};
struct pilot_account : seq<string_lit, ws> {};
struct pilot_item
    : seq<kw_pilot, ws, must<pilot_open>, ws, opt<list<pilot_account, seq<one<','>, ws>>>, must<bracket_close>, ws> {};
struct policy_item
    : sor<locales_item, timezone_item, cap_item, quiet_item, capacity_item, approval_item, holdout_item, pilot_item> {};
struct policy_close : one<'}'> {};
struct policy_decl : seq<kw_policy, ws, must<brace_open>, ws, star<policy_item>, must<policy_close>, ws> {};

// ---- files ----------------------------------------------------------------------------------
struct use_decl : seq<kw_use, ws, must<string_lit>, ws> {};
struct declaration : sor<use_decl, schema_decl, signal_decl, play_decl, policy_decl> {};

// ---- error messages -------------------------------------------------------------------------
// Every rule that can appear under must<> has a message (checked at compile time by must_if).
// A message starts with its diagnostic code; parser.cpp splits it off.
template <typename Rule>
inline constexpr const char* error_message = nullptr;

#define NUDGE_ERR(rule, text) \
  template <>                 \
  inline constexpr const char* error_message<rule> = text
NUDGE_ERR(declaration, "E1001|expected `schema`, `signal`, `play`, `policy` or `use` at the start of a declaration");
NUDGE_ERR(expr, "E1001|expected an expression, such as `mrr`, `15%`, `30d` or `days_until(renewal_date)`");
NUDGE_ERR(unary, "E1001|expected a value after the operator");
NUDGE_ERR(mul_expr, "E1001|expected a value after the operator");
NUDGE_ERR(add_expr, "E1001|expected a value after `??`");
NUDGE_ERR(coalesce_expr, "E1001|expected a value to compare with");
NUDGE_ERR(not_expr, "E1001|expected a condition after `not` or `and`");
NUDGE_ERR(and_expr, "E1001|expected a condition after `or`");
NUDGE_ERR(between_and, "E1001|expected `and` between the two bounds of `between`");
NUDGE_ERR(list_lit, "E1001|expected a list after `in`, such as `[smb, mid]`");
NUDGE_ERR(paren_close, "E1001|expected `)`");
NUDGE_ERR(bracket_close, "E1001|expected `]` to close the list");
NUDGE_ERR(member_name, "E1001|expected a field or fact name after `.`");
NUDGE_ERR(string_body, "E1005|unterminated string: close it with `\"` on the same line");
NUDGE_ERR(escape_char, "E1008|unknown escape sequence; the escapes are \\\", \\\\, \\n, \\t, \\{ and \\}");
NUDGE_ERR(string_lit, "E1001|expected a string in double quotes");
NUDGE_ERR(text_variants, "E1001|expected the message text in double quotes, optionally after a locale: `ru \"...\"`");
NUDGE_ERR(paren_open, "E1001|expected `(`");
NUDGE_ERR(currency_name, "E1001|expected a currency code such as `KZT` or `USD`");
NUDGE_ERR(variant_name, "E1001|expected an enum variant name");
NUDGE_ERR(type_ref, "E1001|expected a type: text, int, number, money(KZT), percent, bool, date or enum(a, b)");
NUDGE_ERR(duration_lit, "E1001|expected a duration such as `30d` or `8w`");
NUDGE_ERR(signed_duration, "E1001|expected a duration such as `14d` or `2w`");
NUDGE_ERR(brace_open, "E1001|expected `{`");
NUDGE_ERR(schema_close,
          "E1001|expected a field (`mrr: money(KZT)`), `history 365d`, `events NAME at FIELD { ... }` or `}`");
NUDGE_ERR(stream_close, "E1001|expected an event field (`topic: text`) or `}`");
NUDGE_ERR(stream_name, "E1001|expected the name of the event stream, such as `tickets`");
NUDGE_ERR(time_field, "E1001|expected the name of the event's date field after `at`");
NUDGE_ERR(kw_at, "E1001|expected `at` and the event's date field: `events tickets at opened { ... }`");
NUDGE_ERR(decl_name, "E1001|expected a name");
NUDGE_ERR(let_name, "E1001|expected the fact's name after `let`");
NUDGE_ERR(let_eq, "E1001|expected `=` after the fact's name");
NUDGE_ERR(locale_tag, "E1001|expected a locale such as `ru` or `en`");
NUDGE_ERR(signal_close, "E1001|expected `let`, `when`, `title` or `}` in a signal");
NUDGE_ERR(channel_name, "E1001|expected a channel: email, in_app, csm_task or call");
NUDGE_ERR(signed_int, "E1001|expected a whole number");
NUDGE_ERR(capped_choice, "E1001|expected `defer` or `suppress` after `if_capped`");
NUDGE_ERR(kw_to, "E1001|expected `to` in `defer up to 3d`");
NUDGE_ERR(kw_when, "E1001|expected `when` and the step's condition");
NUDGE_ERR(step_close,
          "E1001|expected `channel`, `priority`, `offer_id`, `why_now`, `offer`, `next_step` or `}` in a step");
NUDGE_ERR(play_close,
          "E1001|expected `audience`, `channel`, `priority`, `offer_id`, `why_now`, `offer`, `next_step`, `if_capped`, "
          "`step` or `}` in a play");
NUDGE_ERR(locale_name, "E1001|expected a locale name such as `ru`");
NUDGE_ERR(period, "E1001|expected a window: a duration such as `7d`, or `day`, `week` or `month`");
NUDGE_ERR(per_account, "E1001|expected `per account`: caps count touches per account");
NUDGE_ERR(per_period, "E1001|expected `per` and a window, such as `per 7d` or `per week`");
NUDGE_ERR(cap_body, "E1001|expected a cap: `1 per account per 7d` or `same offer per account per 90d`");
NUDGE_ERR(kw_offer, "E1001|expected `offer` in `cap same offer ...`");
NUDGE_ERR(cap_name, "E1001|expected the cap's name after `as`");
NUDGE_ERR(kw_before, "E1001|expected `before` and a date field: `quiet 14d before renewal_date`");
NUDGE_ERR(quiet_field, "E1001|expected the date field the quiet period precedes, such as `renewal_date`");
NUDGE_ERR(kw_per, "E1001|expected `per csm per day`");
NUDGE_ERR(kw_csm, "E1001|expected `csm`");
NUDGE_ERR(kw_by, "E1001|expected `by csm`");
NUDGE_ERR(percent_lit, "E1001|expected a percentage such as `10%`");
NUDGE_ERR(kw_salt, "E1001|expected `salt \"...\"` after the holdout share");
NUDGE_ERR(stratify_field, "E1001|expected the field that sets revenue bands, such as `mrr`");
NUDGE_ERR(pilot_open, "E1001|expected a list of account ids: `pilot [\"acc_001\", \"acc_002\"]`");
NUDGE_ERR(policy_close,
          "E1001|expected `locales`, `timezone`, `cap`, `quiet`, `capacity`, `approval`, `holdout`, `pilot` or `}` in "
          "the policy");
#undef NUDGE_ERR

struct errors {
  template <typename Rule>
  static constexpr const char* message = error_message<Rule>;
  // Rules raise only under must<>, never merely because an alternative failed.
  template <typename Rule>
  static constexpr bool raise_on_failure = false;
};

}  // namespace nudge::grammar
