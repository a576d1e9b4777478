// RetryPolicy: when and after how long a failed model request is retried.
// Mirrors the official OpenAI and Anthropic SDKs (PROTOCOLS.md §4):
// - retried: connection errors and timeouts, HTTP 408, 409, 429 and >= 500
//   (529 included), overloaded/rate-limit errors inside a stream, and a
//   stream that broke after it began (tandem restarts it from scratch);
// - never: auth, bad request, context too long, malformed output, cancelled;
// - an `x-should-retry: true|false` response header overrides the status rule;
// - delay: `retry-after-ms`, else `retry-after` (seconds, or an HTTP date),
//   honored when 0 < delay <= max_retry_after_ms; a longer server-directed
//   delay means "do not retry"; otherwise min(0.5 * 2^n, 8) s with up to 25 %
//   negative jitter, n = retries of the same kind already taken.
// A rate limit (HTTP 429, or a rate-limit error in a stream) is not an error
// of the request: its retry is marked `rate_limited` (the caller pauses the
// whole provider for the delay, RateLimiter::PauseFor) and does not count
// against max_retries. Rate limits are retried until the delays they asked
// for add up to more than max_rate_limit_wait_ms for one request; then the
// 429 is returned.
//
// Thread-safety: Decide is const; the random source must be thread-safe if
// the policy is shared across threads (the default one is).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tandem/protocol/model.h"

namespace tandem::providers {

using HeaderMap = std::map<std::string, std::string>;  // lowercased names

// What one request went through so far.
struct RetryHistory {
  int retries = 0;               // retries after errors (rate limits not counted)
  int rate_limited = 0;          // rate limits retried
  int64_t rate_limited_ms = 0;   // the delays those asked for, summed
};

struct RetryDecision {
  bool retry = false;
  int delay_ms = 0;
  bool rate_limited = false;  // a rate limit: pause the provider for delay_ms
};

class RetryPolicy {
 public:
  using RandomSource = std::function<double()>;  // uniform in [0, 1)

  // A null `random` uses a thread-safe default generator.
  RetryPolicy(int max_retries, int max_retry_after_ms, int64_t max_rate_limit_wait_ms,
              RandomSource random = nullptr);

  // `history`: what this request went through so far. `now` is used to
  // resolve an HTTP-date retry-after.
  RetryDecision Decide(const protocol::ModelError& error, const HeaderMap& headers,
                       const RetryHistory& history,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  // The error kind/status rule, with x-should-retry applied.
  static bool IsRetryable(const protocol::ModelError& error, const HeaderMap& headers);

  // HTTP 429, or a rate-limit error inside a stream.
  static bool IsRateLimit(const protocol::ModelError& error);

  // min(0.5 * 2^n, 8) s * (1 - 0.25 * random01), in ms.
  static int BackoffMs(int retries_taken, double random01);

  // The server-directed delay in ms, if the headers carry a parseable one.
  static std::optional<double> ServerDelayMs(const HeaderMap& headers,
                                             std::chrono::system_clock::time_point now);

 private:
  int max_retries_;
  int max_retry_after_ms_;
  int64_t max_rate_limit_wait_ms_;
  RandomSource random_;
};

}  // namespace tandem::providers
