// Ctrl-C handling. While an InterruptScope lives, SIGINT, SIGTERM and SIGHUP
// (a closed terminal or SSH session) run its callback (on a dedicated thread,
// not in signal context), so every one of them rolls back the unfinished step;
// a second signal exits at once with code 130.
#pragma once

#include <atomic>
#include <functional>

namespace tandem::cli {

class InterruptScope {
 public:
  explicit InterruptScope(std::function<void()> on_interrupt);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // True once an interrupt arrived.
  static bool Interrupted();
};

}  // namespace tandem::cli
