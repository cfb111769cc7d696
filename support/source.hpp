// Source files and spans: byte offsets everywhere, line and column computed only for display.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nudge {

using file_id = std::uint32_t;

// A half-open byte range [begin, end) in one source file.
struct span {
  file_id file = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  friend bool operator==(const span&, const span&) = default;
};

// 1-based line and column; column counts UTF-8 code points, as editors show them.
struct line_col {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

class source_file {
 public:
  source_file(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  std::string_view slice(span s) const;

  line_col position(std::uint32_t offset) const;
  // The text of the 1-based line, without its line terminator.
  std::string_view line_text(std::uint32_t line) const;
  std::uint32_t line_count() const { return static_cast<std::uint32_t>(line_starts_.size()); }

 private:
  std::string path_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

// All files of one rule set; a file_id indexes into it. Files are never removed,
// so ids stay valid while diagnostics refer to them.
class source_map {
 public:
  file_id add(std::string path, std::string text);
  const source_file& file(file_id id) const { return files_[id]; }
  std::size_t size() const { return files_.size(); }
  const std::vector<source_file>& files() const { return files_; }

 private:
  std::vector<source_file> files_;
};

}  // namespace nudge
