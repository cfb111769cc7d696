#include "compiler/types.hpp"

#include "support/currency.hpp"

namespace nudge::compiler {

std::string to_string(const type& t, const type_names& names) {
  std::string s;
  switch (t.k) {
    case kind::error:
      s = "<error>";
      break;
    case kind::text:
      s = "text";
      break;
    case kind::int_:
      s = "int";
      break;
    case kind::number:
      s = "number";
      break;
    case kind::percent:
      s = "percent";
      break;
    case kind::money:
      s = "money(" + std::string(currency_at(t.ref).code) + ")";
      break;
    case kind::bool_:
      s = "bool";
      break;
    case kind::date:
      s = "date";
      break;
    case kind::duration:
      s = "duration";
      break;
    case kind::enum_:
      s = names.enums && t.ref < names.enums->size() ? "enum " + (*names.enums)[t.ref].name : "enum";
      break;
    case kind::stream:
      s = names.streams && t.ref < names.streams->size() ? "events " + (*names.streams)[t.ref].name : "events";
      break;
    case kind::column:
      if (names.streams && t.ref < names.streams->size()) {
        const stream_info& st = (*names.streams)[t.ref];
        s = "values of " + st.name + "." + st.fields[t.field].name;
      } else {
        s = "event values";
      }
      break;
  }
  if (t.optional) s += "?";
  return s;
}

}  // namespace nudge::compiler
