// Lexical helpers for string literals and message templates, shared by the parser and tests.
#pragma once

#include <string>
#include <string_view>

#include "grammar/ast.hpp"
#include "support/diagnostics.hpp"

namespace nudge::grammar {

// The value of the string literal at `where` (quotes included in the span), escapes resolved.
std::string unescape(std::string_view source, span where);

// Splits a message literal into literal pieces and `{name}` / `{signal.fact}` placeholders;
// a malformed placeholder is reported as E1006 and left out.
ast::message_text parse_message(std::string_view source, span where, diagnostic_sink& sink);

// The offset of the first byte that is not part of a valid UTF-8 sequence, or npos.
std::size_t first_invalid_utf8(std::string_view text);

// The length (1-4) of the valid UTF-8 sequence that starts at text[i], or 0 when the bytes
// there are not one (overlong forms, surrogates and values past U+10FFFF are not).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

std::string hex_byte(unsigned char c);

}  // namespace nudge::grammar
