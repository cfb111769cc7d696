#include "compiler/rule_set.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "grammar/parser.hpp"

namespace nudge::compiler {
namespace {

namespace fs = std::filesystem;

// Files larger than this are not rule files; reading them whole would only waste memory.
constexpr std::uintmax_t max_file_bytes = 64u << 20;

bool read_file(const fs::path& path, std::string& text, std::string& why) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    why = ec.message();
    return false;
  }
  if (size > max_file_bytes) {
    why = "file is larger than 64 MiB; rule files are small text files";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open file";
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  text = std::move(buffer).str();
  return true;
}

class loader {
 public:
  explicit loader(diagnostic_sink& sink) : sink_(sink) {}

  void add_path(const std::string& arg) {
    const fs::path path(arg);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      result_.errors.push_back({arg, "no such file or folder"});
      return;
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".rule") files.push_back(it->path());
      }
      if (ec) result_.errors.push_back({arg, ec.message()});
      std::sort(files.begin(), files.end());
      if (files.empty() && !ec) result_.errors.push_back({arg, "folder holds no .rule files"});
      for (const fs::path& f : files) add_file(f, nullptr);
      return;
    }
    add_file(path, nullptr);
  }

  load_result finish() { return std::move(result_); }

 private:
  // Adds a file once, keyed by its canonical path; `from` is the `use` that named it, if any.
  void add_file(const fs::path& path, const span* from) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(path, ec);
    if (ec) key = path;
    if (seen_.contains(key.string())) return;
    std::string text;
    std::string why;
    if (!read_file(path, text, why)) {
      if (from != nullptr) {
        result_.rules.incomplete = true;
        sink_.report(diag::E1009, *from, "cannot read `" + path.string() + "`: " + why).help =
            "`use` paths are relative to the file that contains them";
      } else {
        result_.errors.push_back({path.string(), why});
      }
      return;
    }
    std::string display = path.lexically_normal().string();
    const file_id id = result_.rules.sources.add(display, std::move(text));
    seen_.emplace(key.string(), id);
    result_.rules.modules.push_back(grammar::parse(result_.rules.sources.file(id), id, sink_));
    if (result_.rules.modules.back().skipped) result_.rules.incomplete = true;
    // Follow `use` after the module is stored; copy what is needed since the vector may grow.
    const std::vector<ast::use_decl> uses = result_.rules.modules[id].uses;
    for (const ast::use_decl& u : uses) {
      add_file(path.parent_path() / u.path.value, &u.path.where);
    }
  }

  diagnostic_sink& sink_;
  load_result result_;
  std::map<std::string, file_id> seen_;
};

}  // namespace

load_result load(std::span<const std::string> paths, diagnostic_sink& sink) {
  loader l(sink);
  for (const std::string& p : paths) l.add_path(p);
  return l.finish();
}

rule_set from_files(const std::vector<std::pair<std::string, std::string>>& files, diagnostic_sink& sink) {
  rule_set rules;
  for (const auto& [path, text] : files) {
    const file_id id = rules.sources.add(path, text);
    rules.modules.push_back(grammar::parse(rules.sources.file(id), id, sink));
    if (rules.modules.back().skipped) rules.incomplete = true;
  }
  return rules;
}

rule_set from_text(std::string path, std::string text, diagnostic_sink& sink) {
  rule_set rules;
  const file_id id = rules.sources.add(std::move(path), std::move(text));
  rules.modules.push_back(grammar::parse(rules.sources.file(id), id, sink));
  rules.incomplete = rules.modules.back().skipped;
  return rules;
}

}  // namespace nudge::compiler
