#include "tandem/verify/gate_cache.h"

namespace tandem::verify {

std::optional<GateResult> InMemoryGateCache::Lookup(const GateCacheKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void InMemoryGateCache::Store(const GateCacheKey& key, const GateResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_[key] = result;
}

size_t InMemoryGateCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace tandem::verify
