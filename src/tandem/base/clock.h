// Wall-clock time as tandem records it: milliseconds since the Unix epoch.
// (The ledger takes its clock as an injected function; this is the real one.)
#pragma once

#include <chrono>
#include <cstdint>

namespace tandem {

// Milliseconds from `start` until now on the steady clock (durations: never
// moved by a change of the wall clock).
inline double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

inline int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tandem
