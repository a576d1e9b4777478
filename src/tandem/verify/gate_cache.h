// GateCache: remembers gate verdicts per (tree hash, gate) so that an
// unchanged tree is never verified twice.
//
// The key holds what decides a gate's outcome: the tree it ran on, and the
// gate's name, command and working directory (editing verify.md invalidates
// the entry). Only kPass and kFail are cached: kError (timeout, could not
// start, cancelled) may be transient and is always retried.
//
// RunGates calls Lookup and Store only from the thread that called it. The
// in-memory implementation below is nonetheless thread-safe so one instance
// can serve several runs at once; a ledger-backed implementation lives with
// the ledger.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "tandem/base/mutex.h"
#include "tandem/verify/gate.h"

namespace tandem::verify {

struct GateCacheKey {
  std::string tree_hash;  // the workspace tree the gate ran on (a git tree id)
  std::string gate;       // Gate::name
  std::string command;    // Gate::command
  std::string cwd;        // Gate::cwd

  auto operator<=>(const GateCacheKey&) const = default;
};

class GateCache {
 public:
  virtual ~GateCache() = default;
  // The stored result for `key`, if any.
  virtual std::optional<GateResult> Lookup(const GateCacheKey& key) = 0;
  // Records `result` (a kPass or kFail) for `key`, replacing any earlier one.
  virtual void Store(const GateCacheKey& key, const GateResult& result) = 0;
};

// A GateCache kept in memory for the life of the process. Thread-safe.
class InMemoryGateCache final : public GateCache {
 public:
  std::optional<GateResult> Lookup(const GateCacheKey& key) override;
  void Store(const GateCacheKey& key, const GateResult& result) override;
  size_t size() const;

 private:
  mutable Mutex mutex_;
  std::map<GateCacheKey, GateResult> entries_ GUARDED_BY(mutex_);
};

}  // namespace tandem::verify
