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
//   negative jitter, n = retries already taken.
//
// Thread-safety: Decide is const; the random source must be thread-safe if
// the policy is shared across threads (the default one is).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tandem/protocol/model.h"

namespace tandem::providers {

using HeaderMap = std::map<std::string, std::string>;  // lowercased names

struct RetryDecision {
  bool retry = false;
  int delay_ms = 0;
};

class RetryPolicy {
 public:
  using RandomSource = std::function<double()>;  // uniform in [0, 1)

  // A null `random` uses a thread-safe default generator.
  RetryPolicy(int max_retries, int max_retry_after_ms, RandomSource random = nullptr);

  // `retries_taken`: retries already made for this request. `now` is used to
  // resolve an HTTP-date retry-after.
  RetryDecision Decide(const protocol::ModelError& error, const HeaderMap& headers, int retries_taken,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  // The error kind/status rule, with x-should-retry applied.
  static bool IsRetryable(const protocol::ModelError& error, const HeaderMap& headers);

  // min(0.5 * 2^n, 8) s * (1 - 0.25 * random01), in ms.
  static int BackoffMs(int retries_taken, double random01);

  // The server-directed delay in ms, if the headers carry a parseable one.
  static std::optional<double> ServerDelayMs(const HeaderMap& headers,
                                             std::chrono::system_clock::time_point now);

 private:
  int max_retries_;
  int max_retry_after_ms_;
  RandomSource random_;
};

}  // namespace tandem::providers
