// Mutex and MutexLock: std::mutex and a scoped lock carrying clang's
// thread-safety annotations (thread_annotations.h), so members marked
// GUARDED_BY(mu_) are checked under clang. Mutex meets BasicLockable, so a
// std::condition_variable_any waits on it directly:
//   MutexLock lock(mu_);
//   while (!ready_) cv_.wait(mu_);
//
// Thread-safety: that is the point; not recursive.
#pragma once

#include <mutex>

#include "tandem/base/thread_annotations.h"

namespace tandem {

class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace tandem
