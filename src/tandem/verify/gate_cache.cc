#include "tandem/verify/gate_cache.h"

namespace tandem::verify {

std::optional<GateResult> InMemoryGateCache::Lookup(const GateCacheKey& key) {
  MutexLock lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void InMemoryGateCache::Store(const GateCacheKey& key, const GateResult& result) {
  MutexLock lock(mutex_);
  entries_[key] = result;
}

size_t InMemoryGateCache::size() const {
  MutexLock lock(mutex_);
  return entries_.size();
}

}  // namespace tandem::verify
