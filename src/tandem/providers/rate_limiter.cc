#include "tandem/providers/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tandem::providers {
namespace {

constexpr double kMinuteMs = 60000.0;

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Milliseconds until a bucket refilling `per_minute` holds `need` given it
// holds `have` now (have < need).
int64_t MsUntil(double have, double need, double per_minute) {
  return static_cast<int64_t>(std::ceil((need - have) * kMinuteMs / per_minute));
}

}  // namespace

RateLimiter::Permit& RateLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    Finish(estimated_tokens_);
    limiter_ = other.limiter_;
    estimated_tokens_ = other.estimated_tokens_;
    other.limiter_ = nullptr;
  }
  return *this;
}

void RateLimiter::Permit::Finish(int64_t actual_tokens) {
  if (limiter_ == nullptr) return;
  RateLimiter* limiter = limiter_;
  limiter_ = nullptr;
  limiter->Release(estimated_tokens_, actual_tokens);
}

RateLimiter::RateLimiter(RateLimits limits, Clock now_ms)
    : limits_(limits),
      now_ms_(now_ms ? std::move(now_ms) : Clock(SteadyNowMs)),
      request_tokens_(limits.requests_per_minute),
      model_tokens_(static_cast<double>(limits.tokens_per_minute)),
      last_refill_ms_(now_ms_()) {}

void RateLimiter::Refill(int64_t now) {
  double elapsed = static_cast<double>(std::max<int64_t>(0, now - last_refill_ms_));
  last_refill_ms_ = std::max(now, last_refill_ms_);
  if (limits_.requests_per_minute > 0) {
    request_tokens_ = std::min<double>(limits_.requests_per_minute,
                                       request_tokens_ + elapsed * limits_.requests_per_minute / kMinuteMs);
  }
  if (limits_.tokens_per_minute > 0) {
    double cap = static_cast<double>(limits_.tokens_per_minute);
    model_tokens_ = std::min(cap, model_tokens_ + elapsed * cap / kMinuteMs);
  }
}

RateLimiter::Attempt RateLimiter::TryAcquireLocked(int64_t estimated_tokens, int64_t now) {
  Refill(now);
  if (now < paused_until_ms_) return {std::nullopt, paused_until_ms_};
  if (limits_.max_concurrent_requests > 0 && in_flight_ >= limits_.max_concurrent_requests) {
    return {std::nullopt, std::nullopt};
  }
  int64_t retry_at = now;
  if (limits_.requests_per_minute > 0 && request_tokens_ < 1.0) {
    retry_at = std::max(retry_at, now + MsUntil(request_tokens_, 1.0, limits_.requests_per_minute));
  }
  int64_t need = std::max<int64_t>(0, estimated_tokens);
  if (limits_.tokens_per_minute > 0) {
    need = std::min(need, limits_.tokens_per_minute);
    if (model_tokens_ < static_cast<double>(need)) {
      retry_at = std::max(retry_at, now + MsUntil(model_tokens_, static_cast<double>(need),
                                                  static_cast<double>(limits_.tokens_per_minute)));
    }
  }
  if (retry_at > now) return {std::nullopt, retry_at};
  ++in_flight_;
  if (limits_.requests_per_minute > 0) request_tokens_ -= 1.0;
  if (limits_.tokens_per_minute > 0) model_tokens_ -= static_cast<double>(need);
  return {Permit(this, need), std::nullopt};
}

RateLimiter::Attempt RateLimiter::TryAcquire(int64_t estimated_tokens) {
  MutexLock lock(mu_);
  return TryAcquireLocked(estimated_tokens, now_ms_());
}

Result<RateLimiter::Permit> RateLimiter::Acquire(int64_t estimated_tokens, std::stop_token stop) {
  // Destroyed after the lock is released: its destructor waits for a
  // running callback, which takes mu_.
  std::stop_callback wake(stop, [this] { Wake(); });
  MutexLock lock(mu_);
  for (;;) {
    if (stop.stop_requested()) return Cancelled("cancelled while waiting for the provider's rate limit");
    int64_t now = now_ms_();
    Attempt attempt = TryAcquireLocked(estimated_tokens, now);
    if (attempt.permit) return std::move(*attempt.permit);
    if (attempt.retry_at_ms) {
      changed_.wait_for(mu_, std::chrono::milliseconds(*attempt.retry_at_ms - now));
    } else {
      changed_.wait(mu_);
    }
  }
}

void RateLimiter::Release(int64_t estimated_tokens, int64_t actual_tokens) {
  {
    MutexLock lock(mu_);
    --in_flight_;
    if (limits_.tokens_per_minute > 0) {
      Refill(now_ms_());
      double settled = model_tokens_ + static_cast<double>(estimated_tokens) -
                       static_cast<double>(std::max<int64_t>(0, actual_tokens));
      model_tokens_ = std::min(static_cast<double>(limits_.tokens_per_minute), settled);
    }
  }
  changed_.notify_all();
}

void RateLimiter::PauseFor(int64_t delay_ms) {
  {
    MutexLock lock(mu_);
    paused_until_ms_ = std::max(paused_until_ms_, now_ms_() + std::max<int64_t>(0, delay_ms));
  }
  changed_.notify_all();  // waiters recompute how long to sleep
}

void RateLimiter::Wake() {
  MutexLock lock(mu_);
  changed_.notify_all();
}

int RateLimiter::in_flight() const {
  MutexLock lock(mu_);
  return in_flight_;
}

Result<std::shared_ptr<RateLimiter>> RateLimiters::For(const std::string& provider,
                                                       const RateLimits& limits) {
  MutexLock lock(mu_);
  auto it = by_provider_.find(provider);
  if (it == by_provider_.end()) {
    it = by_provider_.emplace(provider, std::make_shared<RateLimiter>(limits, now_ms_)).first;
  } else if (!(it->second->limits() == limits)) {
    return InvalidArgument("provider " + provider + " configured with two different rate limits");
  }
  return it->second;
}

}  // namespace tandem::providers
