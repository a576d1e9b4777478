// Identifies a process across pid reuse and reboots, so the ledger can tell
// a live run from one whose process died (kill -9, crash, reboot): a pid
// alone may be recycled, but (boot id, pid, start time) is not.
//
// Linux-specific: reads /proc. Where /proc is missing, start_ticks is 0 and
// boot_id empty, and liveness falls back to kill(pid, 0).
#pragma once

#include <cstdint>
#include <string>

namespace tandem::ledger {

struct ProcessIdentity {
  int64_t pid = 0;
  int64_t start_ticks = 0;  // /proc/<pid>/stat field 22: start time since boot, in clock ticks
  std::string boot_id{};    // /proc/sys/kernel/random/boot_id

  // The calling process.
  static ProcessIdentity Current();
  // Process `pid` as it is now (start_ticks 0 when it does not exist).
  static ProcessIdentity Of(int64_t pid);

  // True when this process still runs: same boot, pid exists and is not a
  // zombie, and (when known) its start time matches.
  bool IsAlive() const;

  bool operator==(const ProcessIdentity&) const = default;
};

}  // namespace tandem::ledger
