#include "tests/model_server/prefix_cache.h"

#include <algorithm>

namespace tandem::model_server {

size_t PrefixCache::Lookup(const std::string& model, const std::string& prompt) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string& previous = last_prompt_[model];
  auto [a, b] = std::mismatch(prompt.begin(), prompt.end(), previous.begin(), previous.end());
  size_t common = static_cast<size_t>(a - prompt.begin());
  previous = prompt;
  return common;
}

}  // namespace tandem::model_server
