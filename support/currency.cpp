#include "support/currency.hpp"

#include <array>

namespace nudge {
namespace {

constexpr std::array currencies{
    currency{"KZT", 2, "₸"},   currency{"USD", 2, "$"},    currency{"EUR", 2, "€"},   currency{"RUB", 2, "₽"},
    currency{"GBP", 2, "£"},   currency{"UZS", 2, "soʻm"}, currency{"KGS", 2, "с"},   currency{"BYN", 2, "Br"},
    currency{"UAH", 2, "₴"},   currency{"GEL", 2, "₾"},  currency{"AMD", 2, "֏"},   currency{"AZN", 2, "₼"},
    currency{"TRY", 2, "₺"},   currency{"AED", 2, "AED"},  currency{"CNY", 2, "¥"},   currency{"JPY", 0, "¥"},
    currency{"KRW", 0, "₩"},   currency{"INR", 2, "₹"},    currency{"CHF", 2, "CHF"}, currency{"PLN", 2, "zł"},
    currency{"CZK", 2, "Kč"},  currency{"SEK", 2, "kr"},   currency{"NOK", 2, "kr"},  currency{"DKK", 2, "kr"},
    currency{"CAD", 2, "CA$"}, currency{"AUD", 2, "A$"},   currency{"SGD", 2, "S$"},  currency{"HKD", 2, "HK$"},
    currency{"BRL", 2, "R$"},  currency{"MXN", 2, "MX$"},  currency{"ILS", 2, "₪"},   currency{"ZAR", 2, "R"},
    currency{"TJS", 2, "SM"},
};

}  // namespace

std::span<const currency> known_currencies() { return currencies; }

std::optional<std::size_t> currency_index(std::string_view code) {
  for (std::size_t i = 0; i < currencies.size(); ++i) {
    if (currencies[i].code == code) return i;
  }
  return std::nullopt;
}

}  // namespace nudge
