// InterruptHub: one place that a Ctrl-C (or the dashboard's stop button)
// reaches, which then stops every subscriber: the running agent's policy, a
// model stream in flight, a command in flight.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace tandem::agent {

class InterruptHub {
 public:
  using Handle = int;

  // Runs every subscriber once (later calls do nothing more).
  void Interrupt() {
    std::map<Handle, std::function<void()>> subscribers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (interrupted_.exchange(true)) return;
      subscribers = subscribers_;
    }
    for (auto& [handle, fn] : subscribers) fn();
  }
  bool interrupted() const { return interrupted_.load(); }

  // `fn` runs at Interrupt(), or at once if that already happened.
  Handle Subscribe(std::function<void()> fn) {
    std::unique_lock<std::mutex> lock(mu_);
    Handle handle = next_++;
    subscribers_[handle] = fn;
    if (interrupted_.load()) {
      lock.unlock();
      fn();
    }
    return handle;
  }
  void Unsubscribe(Handle handle) {
    std::lock_guard<std::mutex> lock(mu_);
    subscribers_.erase(handle);
  }

 private:
  std::mutex mu_;
  std::atomic<bool> interrupted_{false};
  std::map<Handle, std::function<void()>> subscribers_;  // GUARDED_BY(mu_)
  Handle next_ = 1;                                      // GUARDED_BY(mu_)
};

}  // namespace tandem::agent
