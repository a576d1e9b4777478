// HeadTailBuffer: keeps the first and last bytes of a stream whose total size
// is unknown in advance, in memory bounded by `limit`.
//
// Used for command output: errors usually show at the end, the command's
// context at the start, and the middle of 10 MB of log is rarely worth the
// model's context. Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem::platform {

class HeadTailBuffer {
 public:
  // Keeps at most `limit` bytes: the first limit/2 and the last limit - limit/2.
  explicit HeadTailBuffer(size_t limit);

  void Append(std::string_view data);

  // Everything when total_bytes() <= limit; otherwise head, then
  // "\n[... N bytes omitted ...]\n", then tail.
  std::string Take() const;

  size_t total_bytes() const { return total_; }
  bool truncated() const { return total_ > head_cap_ + tail_cap_; }

 private:
  size_t head_cap_;
  size_t tail_cap_;
  size_t total_ = 0;
  std::string head_;
  std::string tail_;  // may hold up to 2 * tail_cap_ before compaction
};

}  // namespace tandem::platform
