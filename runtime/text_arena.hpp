// Many short texts kept in a few large blocks: the rendered records of one thread's share of
// a night. One allocation per record would grow the thread's malloc arena a page at a time,
// and each growth is an mprotect under the process's memory-map lock, which stops the
// other threads' page faults: with two threads, 23,000 of them serialized a third of the
// rendering (docs/performance.md). Views returned by add() stay valid while the arena lives,
// moves included.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace nudge::runtime {

class text_arena {
 public:
  static constexpr std::size_t block_bytes = std::size_t{1} << 20;

  std::string_view add(std::string_view text) {
    if (text.empty()) return {};
    if (text.size() > left_) {
      const std::size_t size = std::max(block_bytes, text.size());
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      next_ = blocks_.back().get();
      left_ = size;
    }
    std::memcpy(next_, text.data(), text.size());
    const std::string_view out(next_, text.size());
    next_ += text.size();
    left_ -= text.size();
    return out;
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

}  // namespace nudge::runtime
