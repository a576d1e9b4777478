// Wall-clock time as tandem records it: milliseconds since the Unix epoch.
// (The ledger takes its clock as an injected function; this is the real one.)
#pragma once

#include <chrono>
#include <cstdint>

namespace tandem {

inline int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tandem
