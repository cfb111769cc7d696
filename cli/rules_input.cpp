#include "cli/rules_input.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "compiler/lower.hpp"
#include "support/render.hpp"

namespace nudge::cli {
namespace {

constexpr std::string_view bundle_format = "nudge-bundle/1";

std::string rules_hash(const source_map& sources) {
  // FNV-1a over the files in path order: the same sources give the same hash on any machine.
  std::vector<const source_file*> files;
  for (const source_file& f : sources.files()) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const source_file* a, const source_file* b) { return a->path() < b->path(); });
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;
    h *= 1099511628211ULL;
  };
  for (const source_file* f : files) {
    mix(f->path());
    mix(f->text());
  }
  return fmt::format("{:016x}", h);
}

bool is_bundle(const std::vector<std::string>& paths) {
  if (paths.size() != 1 || !std::filesystem::is_regular_file(paths.front())) return false;
  std::ifstream in(paths.front(), std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head.find(bundle_format) != std::string::npos;
}

std::string lowered_text(const compiled_rules& r) {
  std::ostringstream out;
  compiler::dump_lowered(out, r.checked.loaded.rules, r.checked.checked, r.lowered);
  return out.str();
}

}  // namespace

std::optional<compiled_rules> compile_rules(const std::vector<std::string>& paths, int& exit) {
  compiled_rules out;
  nlohmann::json bundle;
  if (is_bundle(paths)) {
    std::ifstream in(paths.front(), std::ios::binary);
    bundle = nlohmann::json::parse(in, nullptr, false);
    if (bundle.is_discarded() || !bundle.is_object() || bundle.value("format", "") != bundle_format ||
        !bundle.contains("files") || !bundle["files"].is_array()) {
      std::cerr << "nudge: error: `" << paths.front() << "` is not a readable nudge bundle\n";
      exit = exit_code::usage;
      return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& f : bundle["files"]) files.emplace_back(f.value("path", ""), f.value("text", ""));
    out.checked.loaded.rules = compiler::from_files(files, out.checked.diagnostics);
    out.checked.checked = compiler::check(out.checked.loaded.rules, out.checked.diagnostics);
    out.checked.diagnostics.sort();
  } else {
    out.checked = compiler::check(paths);
  }
  const compiler::check_result& r = out.checked;
  if (!r.loaded.errors.empty()) {
    for (const compiler::load_error& e : r.loaded.errors) {
      std::cerr << "nudge: error: cannot read `" << e.path << "`: " << e.message << '\n';
    }
    exit = exit_code::usage;
    return std::nullopt;
  }
  if (r.diagnostics.error_count() > 0) {
    render(std::cerr, diag_format::text, r.loaded.rules.sources, r.diagnostics.all(), render_options{false, NUDGE_VERSION});
    std::cerr << "nudge: the rules have errors; fix them (see `nudge check`) before running\n";
    exit = exit_code::findings;
    return std::nullopt;
  }
  out.lowered = compiler::lower(r.loaded.rules, r.checked);
  out.hash = rules_hash(r.loaded.rules.sources);
  if (!bundle.is_null()) {
    // The nightly job must run exactly what CI checked: the same sources, compiled the same way.
    if (bundle.value("hash", "") != out.hash) {
      std::cerr << "nudge: error: bundle `" << paths.front() << "` is damaged: its files do not match its hash\n";
      exit = exit_code::usage;
      return std::nullopt;
    }
    if (bundle.value("lowered", "") != lowered_text(out)) {
      std::cerr << "nudge: error: bundle `" << paths.front() << "` was built by nudge " << bundle.value("nudge", "?")
                << ", which compiles these rules differently from this nudge " << NUDGE_VERSION
                << "; rebuild it with `nudge build`\n";
      exit = exit_code::usage;
      return std::nullopt;
    }
  }
  return out;
}

bool write_bundle(const compiled_rules& rules, const std::string& path) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const source_file& f : rules.checked.loaded.rules.sources.files()) {
    files.push_back({{"path", f.path()}, {"text", f.text()}});
  }
  const nlohmann::ordered_json doc{{"format", bundle_format}, {"nudge", NUDGE_VERSION}, {"hash", rules.hash},
                                   {"files", std::move(files)},   {"lowered", lowered_text(rules)}};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << doc.dump(1) << '\n';
  return static_cast<bool>(out);
}

}  // namespace nudge::cli
