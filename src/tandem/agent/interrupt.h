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

#include "tandem/base/mutex.h"

namespace tandem::agent {

class InterruptHub {
 public:
  using Handle = int;

  InterruptHub() = default;
  // A child: interrupted when `parent` is (if not null), or alone by its own
  // Interrupt(). Cancellation is a tree: the run's hub, a task's, a variant's.
  explicit InterruptHub(InterruptHub* parent) : parent_(parent) {
    if (parent_) link_ = parent_->Subscribe([this] { Interrupt(); });
  }
  ~InterruptHub() {
    if (parent_) parent_->Unsubscribe(link_);
  }
  InterruptHub(const InterruptHub&) = delete;
  InterruptHub& operator=(const InterruptHub&) = delete;

  // Runs every subscriber once (later calls do nothing more).
  void Interrupt() {
    MutexLock firing(fire_mu_);
    std::map<Handle, std::function<void()>> subscribers;
    {
      MutexLock lock(mu_);
      if (interrupted_.exchange(true)) return;
      subscribers = subscribers_;
    }
    for (auto& [handle, fn] : subscribers) fn();
  }
  bool interrupted() const { return interrupted_.load(); }

  // `fn` runs at Interrupt(), or at once if that already happened.
  Handle Subscribe(std::function<void()> fn) {
    Handle handle = 0;
    bool already = false;  // read under mu_: Interrupt() flips it under mu_, so fn runs once
    {
      MutexLock lock(mu_);
      handle = next_++;
      subscribers_[handle] = fn;
      already = interrupted_.load();
    }
    if (already) fn();
    return handle;
  }
  // After it returns, `handle`'s fn is not running and will not run: an
  // Interrupt() in flight on another thread is waited for. Not to be called
  // from a subscriber's fn.
  void Unsubscribe(Handle handle) {
    {
      MutexLock lock(mu_);
      subscribers_.erase(handle);
    }
    MutexLock firing(fire_mu_);
  }

 private:
  InterruptHub* parent_ = nullptr;
  Handle link_ = 0;
  Mutex fire_mu_;  // held while Interrupt() runs the subscribers
  Mutex mu_;
  std::atomic<bool> interrupted_{false};
  std::map<Handle, std::function<void()>> subscribers_ GUARDED_BY(mu_);
  Handle next_ GUARDED_BY(mu_) = 1;
};

}  // namespace tandem::agent
