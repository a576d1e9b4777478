#include "tandem/platform/head_tail_buffer.h"

#include <algorithm>

namespace tandem::platform {

HeadTailBuffer::HeadTailBuffer(size_t limit) : head_cap_(limit / 2), tail_cap_(limit - limit / 2) {}

void HeadTailBuffer::Append(std::string_view data) {
  total_ += data.size();
  size_t to_head = std::min(data.size(), head_cap_ - head_.size());
  head_.append(data.substr(0, to_head));
  data.remove_prefix(to_head);
  if (data.empty()) return;
  if (data.size() >= tail_cap_) {
    tail_.assign(data.substr(data.size() - tail_cap_));
    return;
  }
  tail_.append(data);
  // Compact lazily so appends stay amortized O(bytes).
  if (tail_.size() > 2 * tail_cap_) tail_.erase(0, tail_.size() - tail_cap_);
}

std::string HeadTailBuffer::Take() const {
  std::string_view tail = tail_;
  if (tail.size() > tail_cap_) tail.remove_prefix(tail.size() - tail_cap_);
  std::string out = head_;
  if (truncated()) {
    size_t omitted = total_ - head_.size() - tail.size();
    out += "\n[... " + std::to_string(omitted) + " bytes omitted ...]\n";
  }
  out.append(tail);
  return out;
}

}  // namespace tandem::platform
