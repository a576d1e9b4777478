#include "tandem/providers/retry_policy.h"

#include <gtest/gtest.h>

namespace tandem::providers {
namespace {

using protocol::ModelError;
using protocol::ModelErrorKind;

ModelError Http(int status, ModelErrorKind kind = ModelErrorKind::kServer) { return ModelError{kind, status, "", 0}; }
ModelError Kind(ModelErrorKind kind) { return ModelError{kind, 0, "", 0}; }

RetryPolicy Policy(int max_retries = 2, int max_retry_after_ms = 60000, double r = 0.0,
                   int64_t max_rate_limit_wait_ms = 600000) {
  return RetryPolicy(max_retries, max_retry_after_ms, max_rate_limit_wait_ms, [r] { return r; });
}

TEST(RetryPolicy, RetriesTheStatusesTheSdksRetry) {
  for (int status : {408, 409, 429, 500, 502, 503, 504, 529}) {
    EXPECT_TRUE(Policy().Decide(Http(status), {}, {0}).retry) << status;
  }
}

TEST(RetryPolicy, DoesNotRetryClientErrors) {
  for (int status : {400, 401, 403, 404, 413, 422}) {
    EXPECT_FALSE(Policy().Decide(Http(status, ModelErrorKind::kBadRequest), {}, {0}).retry) << status;
  }
}

TEST(RetryPolicy, RetriesConnectionFailuresTimeoutsAndBrokenStreams) {
  for (ModelErrorKind k : {ModelErrorKind::kNetwork, ModelErrorKind::kTimeout, ModelErrorKind::kStreamBroken,
                           ModelErrorKind::kOverloaded, ModelErrorKind::kRateLimited}) {
    EXPECT_TRUE(Policy().Decide(Kind(k), {}, {0}).retry) << protocol::ModelErrorKindName(k);
  }
}

TEST(RetryPolicy, NeverRetriesMalformedOrCancelledEvenIfServerSaysSo) {
  HeaderMap yes = {{"x-should-retry", "true"}};
  EXPECT_FALSE(Policy().Decide(Kind(ModelErrorKind::kMalformed), yes, {0}).retry);
  EXPECT_FALSE(Policy().Decide(Kind(ModelErrorKind::kCancelled), yes, {0}).retry);
  EXPECT_FALSE(Policy().Decide(Kind(ModelErrorKind::kContextTooLong), {}, {0}).retry);
}

TEST(RetryPolicy, XShouldRetryOverridesTheStatusRule) {
  EXPECT_TRUE(Policy().Decide(Http(400, ModelErrorKind::kBadRequest), {{"x-should-retry", "true"}}, {0}).retry);
  EXPECT_FALSE(Policy().Decide(Http(503), {{"x-should-retry", "false"}}, {0}).retry);
}

TEST(RetryPolicy, StopsAfterMaxRetries) {
  EXPECT_TRUE(Policy(2).Decide(Http(500), {}, {1}).retry);
  EXPECT_FALSE(Policy(2).Decide(Http(500), {}, {2}).retry);
  EXPECT_FALSE(Policy(0).Decide(Http(500), {}, {0}).retry);
}

TEST(RetryPolicy, BackoffDoublesFromHalfASecondUpToEight) {
  EXPECT_EQ(RetryPolicy::BackoffMs(0, 0.0), 500);
  EXPECT_EQ(RetryPolicy::BackoffMs(1, 0.0), 1000);
  EXPECT_EQ(RetryPolicy::BackoffMs(2, 0.0), 2000);
  EXPECT_EQ(RetryPolicy::BackoffMs(3, 0.0), 4000);
  EXPECT_EQ(RetryPolicy::BackoffMs(4, 0.0), 8000);
  EXPECT_EQ(RetryPolicy::BackoffMs(9, 0.0), 8000);
}

TEST(RetryPolicy, JitterShortensTheDelayByUpToAQuarter) {
  EXPECT_EQ(RetryPolicy::BackoffMs(1, 0.5), 875);
  EXPECT_EQ(RetryPolicy::BackoffMs(1, 0.999999), 750);
  EXPECT_EQ(Policy(5, 60000, 1.0).Decide(Http(500), {}, {0}).delay_ms, 375);
}

TEST(RetryPolicy, HonorsRetryAfterMsFirst) {
  RetryDecision d = Policy().Decide(Http(429), {{"retry-after-ms", "250.5"}, {"retry-after", "9"}}, {0});
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay_ms, 251);
}

TEST(RetryPolicy, HonorsRetryAfterSeconds) {
  RetryDecision d = Policy().Decide(Http(429), {{"retry-after", "2"}}, {0});
  EXPECT_EQ(d.delay_ms, 2000);
}

TEST(RetryPolicy, HonorsRetryAfterHttpDate) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  RetryDecision d =
      Policy().Decide(Http(503), {{"retry-after", "Wed, 21 Oct 2015 07:28:03 GMT"}}, {0}, now);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay_ms, 3000);
}

TEST(RetryPolicy, ServerDelayAboveTheCapMeansDoNotRetry) {
  EXPECT_FALSE(Policy(2, 60000).Decide(Http(429), {{"retry-after", "61"}}, {0}).retry);
  EXPECT_TRUE(Policy(2, 60000).Decide(Http(429), {{"retry-after", "60"}}, {0}).retry);
}

TEST(RetryPolicy, UnparseableOrNonPositiveServerDelayFallsBackToBackoff) {
  EXPECT_EQ(Policy().Decide(Http(429), {{"retry-after", "soon"}}, {0, 1}).delay_ms, 1000);
  EXPECT_EQ(Policy().Decide(Http(429), {{"retry-after-ms", "0"}}, {0}).delay_ms, 500);
  auto now = std::chrono::system_clock::from_time_t(1445412480);
  EXPECT_EQ(Policy().Decide(Http(429), {{"retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"}}, {0}, now).delay_ms, 500);
}

TEST(RetryPolicy, RateLimitsDoNotCountAgainstMaxRetries) {
  RetryDecision d = Policy(0).Decide(Http(429), {{"retry-after", "1"}}, {});
  EXPECT_TRUE(d.retry);
  EXPECT_TRUE(d.rate_limited);
  EXPECT_EQ(d.delay_ms, 1000);
  EXPECT_TRUE(Policy(2).Decide(Kind(ModelErrorKind::kRateLimited), {}, {2, 40, 0}).retry);
  EXPECT_FALSE(Policy(2).Decide(Http(500), {}, {2, 0, 0}).retry);
  EXPECT_FALSE(Policy(2).Decide(Http(500), {}, {2}).rate_limited);
}

TEST(RetryPolicy, RateLimitBackoffGrowsWithTheRateLimitsNotTheErrors) {
  EXPECT_EQ(Policy().Decide(Http(429), {}, {3, 0}).delay_ms, 500);
  EXPECT_EQ(Policy().Decide(Http(429), {}, {0, 2}).delay_ms, 2000);
}

TEST(RetryPolicy, RateLimitsStopOnceTheirDelaysWouldPassTheWaitCap) {
  RetryPolicy policy = Policy(2, 60000, 0.0, 10000);
  EXPECT_TRUE(policy.Decide(Http(429), {{"retry-after", "2"}}, {0, 4, 8000}).retry);
  RetryDecision over = policy.Decide(Http(429), {{"retry-after", "2"}}, {0, 5, 8001});
  EXPECT_FALSE(over.retry);
  EXPECT_TRUE(over.rate_limited);
  EXPECT_FALSE(policy.Decide(Http(429), {{"retry-after", "61"}}, {}).retry);  // above max_retry_after_ms
}

}  // namespace
}  // namespace tandem::providers
