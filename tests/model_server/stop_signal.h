// Lets sleeping stream writers wake up at once when the server stops.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tandem::model_server {

class StopSignal {
 public:
  using Clock = std::chrono::steady_clock;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
  }

  // Sleeps until `deadline`; false when the server stopped meanwhile.
  bool SleepUntil(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !cv_.wait_until(lock, deadline, [this] { return stopped_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace tandem::model_server
