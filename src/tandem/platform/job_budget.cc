#include "tandem/platform/job_budget.h"

#include <algorithm>
#include <thread>

namespace tandem::platform {

JobBudget::Token& JobBudget::Token::operator=(Token&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = other.budget_;
    other.budget_ = nullptr;
  }
  return *this;
}

void JobBudget::Token::Release() {
  if (budget_ == nullptr) return;
  JobBudget* budget = budget_;
  budget_ = nullptr;
  budget->Return();
}

int JobBudget::DefaultCapacity() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

JobBudget::JobBudget(int capacity)
    : capacity_(capacity < 1 ? DefaultCapacity() : capacity), available_(capacity_) {}

int JobBudget::available() const {
  MutexLock lock(mu_);
  return available_;
}

Result<JobBudget::Token> JobBudget::Acquire(std::stop_token stop) {
  // Declared before the lock, so it is destroyed after the lock is released:
  // its destructor waits for a running callback, which takes mu_.
  std::stop_callback wake(stop, [this] {
    MutexLock lock(mu_);
    freed_.notify_all();
  });
  MutexLock lock(mu_);
  ++waiting_;
  while (!stop.stop_requested() && available_ == 0) freed_.wait(mu_);
  --waiting_;
  if (stop.stop_requested()) return Cancelled("cancelled while waiting for a job slot");
  --available_;
  return Token(this);
}

int JobBudget::waiting() const {
  MutexLock lock(mu_);
  return waiting_;
}

std::optional<JobBudget::Token> JobBudget::TryAcquire() {
  MutexLock lock(mu_);
  if (available_ == 0) return std::nullopt;
  --available_;
  return Token(this);
}

void JobBudget::Return() {
  {
    MutexLock lock(mu_);
    ++available_;
  }
  freed_.notify_one();
}

}  // namespace tandem::platform
