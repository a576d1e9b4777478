// RateLimiter: the request budget of one model provider, shared by every
// agent that talks to it, so many agents in one process stay inside the
// provider's limits instead of each learning them from 429s.
//
// Three limits, each off when 0:
//   max_concurrent_requests  requests in flight at once (a permit is held
//                            from the request's start until its end)
//   requests_per_minute      a token bucket of that capacity, refilled
//                            continuously at capacity/60 s
//   tokens_per_minute        the same for model tokens: a request takes its
//                            estimate when it starts and settles the
//                            difference with the actual count at Finish()
//                            (an overrun makes later requests wait longer)
// Buckets start full (one minute's worth may go at once, as the providers'
// own buckets allow). An estimate above tokens_per_minute is capped at it,
// so one large request can always run eventually.
// A 429 calls PauseFor(Retry-After): no request of any agent starts before
// the pause ends; requests already in flight are not touched. A 429 thus
// slows the provider's queue, it never fails a request by itself.
// There is no FIFO among waiters: whoever re-checks first after capacity
// frees up goes.
//
// One per provider per process: cli::Runtime::rate_limiters (a RateLimiters)
// owns them and every ModelClient OpenModel builds holds its provider's
// (StreamingClient takes a permit per attempt and pauses it on a 429).
//
// Time comes from an injected clock (milliseconds, monotonic), so tests are
// deterministic: TryAcquire() answers "now, or not before time T" without
// waiting, and a test moves its clock then calls Wake().
//
// Thread-safety: every method may be called from any thread. The limiter
// must outlive its permits.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "tandem/base/mutex.h"
#include "tandem/base/status.h"
#include "tandem/base/thread_annotations.h"

namespace tandem::providers {

struct RateLimits {
  int max_concurrent_requests = 0;
  int requests_per_minute = 0;
  int64_t tokens_per_minute = 0;

  bool operator==(const RateLimits&) const = default;
};

class RateLimiter {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, never going back

  // The right to run one request; returns its concurrency slot when
  // destroyed. Move-only.
  class Permit {
   public:
    Permit(Permit&& other) noexcept
        : limiter_(other.limiter_), estimated_tokens_(other.estimated_tokens_) {
      other.limiter_ = nullptr;
    }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Finish(estimated_tokens_); }

    // Ends the request with its actual token count (input + output), which
    // settles the tokens-per-minute bucket. Later calls do nothing.
    void Finish(int64_t actual_tokens);

   private:
    friend class RateLimiter;
    Permit(RateLimiter* limiter, int64_t estimated_tokens)
        : limiter_(limiter), estimated_tokens_(estimated_tokens) {}
    RateLimiter* limiter_;
    int64_t estimated_tokens_;
  };

  // Either a permit, or the earliest clock time worth trying again
  // (nullopt: when a permit in flight finishes).
  struct Attempt {
    std::optional<Permit> permit;
    std::optional<int64_t> retry_at_ms;
  };

  // A null `now_ms` uses std::chrono::steady_clock.
  explicit RateLimiter(RateLimits limits, Clock now_ms = nullptr);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  const RateLimits& limits() const { return limits_; }

  // Takes a permit for a request of about `estimated_tokens` if every limit
  // allows it now; never blocks.
  Attempt TryAcquire(int64_t estimated_tokens) EXCLUDES(mu_);

  // Blocks until TryAcquire would succeed, or returns Cancelled once `stop`
  // is requested.
  Result<Permit> Acquire(int64_t estimated_tokens, std::stop_token stop) EXCLUDES(mu_);

  // The provider answered 429: no request starts before now + `delay_ms`
  // (a longer pause already in force stays).
  void PauseFor(int64_t delay_ms) EXCLUDES(mu_);

  // Blocked Acquire() calls re-check now (for a clock that jumps, as tests'
  // does; the real clock needs no help).
  void Wake() EXCLUDES(mu_);

  int in_flight() const EXCLUDES(mu_);

 private:
  Attempt TryAcquireLocked(int64_t estimated_tokens, int64_t now) REQUIRES(mu_);
  void Refill(int64_t now) REQUIRES(mu_);
  void Release(int64_t estimated_tokens, int64_t actual_tokens) EXCLUDES(mu_);

  const RateLimits limits_;
  const Clock now_ms_;
  mutable Mutex mu_;
  std::condition_variable_any changed_;
  int in_flight_ GUARDED_BY(mu_) = 0;
  double request_tokens_ GUARDED_BY(mu_);  // requests_per_minute bucket
  double model_tokens_ GUARDED_BY(mu_);    // tokens_per_minute bucket
  int64_t last_refill_ms_ GUARDED_BY(mu_);
  int64_t paused_until_ms_ GUARDED_BY(mu_) = 0;
};

// One RateLimiter per provider name for the whole process: every agent that
// uses provider "openai" gets the same limiter. Thread-safe.
class RateLimiters {
 public:
  explicit RateLimiters(RateLimiter::Clock now_ms = nullptr) : now_ms_(std::move(now_ms)) {}

  // The provider's limiter, created with `limits` on first use. Later calls
  // return the same limiter; limits that differ from the first call's are
  // an InvalidArgument (two configurations for one provider).
  Result<std::shared_ptr<RateLimiter>> For(const std::string& provider, const RateLimits& limits)
      EXCLUDES(mu_);

 private:
  const RateLimiter::Clock now_ms_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<RateLimiter>> by_provider_ GUARDED_BY(mu_);
};

}  // namespace tandem::providers
