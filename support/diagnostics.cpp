#include "support/diagnostics.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace nudge {
namespace {

constexpr std::array kinds{
#define DIAG(code, sev, name, summary) diag_info{diag::code, #code, severity::sev, #name, summary},
#include "support/diagnostic_kinds.def"
#undef DIAG
};

template <typename Range>
std::string closest_in(std::string_view name, const Range& candidates) {
  std::string best;
  std::size_t best_distance = std::string_view::npos;
  // Allow about one typo per three letters, so `mmr` finds `mrr` but `x` finds nothing.
  const std::size_t limit = std::max<std::size_t>(1, name.size() / 3);
  for (const auto& c : candidates) {
    const std::string_view candidate{c};
    if (candidate == name) continue;
    const std::size_t d = edit_distance(name, candidate);
    if (d <= limit && d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

}  // namespace

const diag_info& info(diag kind) { return kinds[static_cast<std::size_t>(kind)]; }

std::span<const diag_info> all_diagnostic_kinds() { return kinds; }

std::string_view to_string(severity s) {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::note: break;
  }
  return "note";
}

diagnostic& diagnostic_sink::report(diag kind, span where, std::string message) {
  items_.push_back(diagnostic{kind, info(kind).sev, where, std::move(message), {}, {}});
  return items_.back();
}

std::size_t diagnostic_sink::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(), [](const diagnostic& d) { return d.sev == severity::error; }));
}

std::size_t diagnostic_sink::warning_count() const {
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(), [](const diagnostic& d) { return d.sev == severity::warning; }));
}

std::size_t diagnostic_sink::note_count() const { return items_.size() - error_count() - warning_count(); }

void diagnostic_sink::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tuple(a.where.file, a.where.begin, a.kind) < std::tuple(b.where.file, b.where.begin, b.kind);
  });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Damerau-Levenshtein (optimal string alignment): a swap of two letters is one typo.
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::string closest(std::string_view name, std::span<const std::string> candidates) {
  return closest_in(name, candidates);
}

std::string closest(std::string_view name, std::span<const std::string_view> candidates) {
  return closest_in(name, candidates);
}

}  // namespace nudge
