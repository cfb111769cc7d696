// ISO 4217 currencies the language knows, with their minor-unit digits and display symbols.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace nudge {

struct currency {
  std::string_view code;    // "KZT"
  int minor_digits;         // 2 for tiyn, cents; 0 for JPY
  std::string_view symbol;  // "₸"
};

std::span<const currency> known_currencies();
std::optional<std::size_t> currency_index(std::string_view code);
inline const currency& currency_at(std::size_t index) { return known_currencies()[index]; }

}  // namespace nudge
