#include "tandem/providers/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tandem::providers {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::atomic<int64_t> now{1000};
  RateLimiter::Clock fn() {
    return [this] { return now.load(); };
  }
};

RateLimits Limits(int concurrent, int per_minute = 0, int64_t tokens_per_minute = 0) {
  RateLimits l;
  l.max_concurrent_requests = concurrent;
  l.requests_per_minute = per_minute;
  l.tokens_per_minute = tokens_per_minute;
  return l;
}

TEST(RateLimiter, NoLimitsAlwaysAdmits) {
  FakeClock clock;
  RateLimiter limiter(RateLimits{}, clock.fn());
  std::vector<RateLimiter::Permit> permits;
  for (int i = 0; i < 100; ++i) {
    RateLimiter::Attempt a = limiter.TryAcquire(1'000'000);
    ASSERT_TRUE(a.permit);
    permits.push_back(std::move(*a.permit));
  }
  EXPECT_EQ(limiter.in_flight(), 100);
}

TEST(RateLimiter, ConcurrencyLimitAdmitsAgainWhenAPermitEnds) {
  FakeClock clock;
  RateLimiter limiter(Limits(2), clock.fn());
  RateLimiter::Attempt a = limiter.TryAcquire(0);
  RateLimiter::Attempt b = limiter.TryAcquire(0);
  ASSERT_TRUE(a.permit && b.permit);
  RateLimiter::Attempt c = limiter.TryAcquire(0);
  EXPECT_FALSE(c.permit);
  EXPECT_FALSE(c.retry_at_ms);  // not a matter of time: of a permit ending
  a.permit->Finish(10);
  EXPECT_TRUE(limiter.TryAcquire(0).permit);
}

TEST(RateLimiter, RequestsPerMinuteRefillsContinuously) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 60), clock.fn());
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.TryAcquire(0).permit) << i;  // a full bucket
  RateLimiter::Attempt denied = limiter.TryAcquire(0);
  ASSERT_FALSE(denied.permit);
  ASSERT_TRUE(denied.retry_at_ms);
  EXPECT_EQ(*denied.retry_at_ms, clock.now + 1000);  // one request per second
  clock.now += 999;
  EXPECT_FALSE(limiter.TryAcquire(0).permit);
  clock.now += 1;
  EXPECT_TRUE(limiter.TryAcquire(0).permit);
  EXPECT_FALSE(limiter.TryAcquire(0).permit);
}

TEST(RateLimiter, TokensPerMinuteSettlesTheEstimateWithTheActualCount) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 0, 6000), clock.fn());
  RateLimiter::Attempt a = limiter.TryAcquire(6000);
  ASSERT_TRUE(a.permit);
  EXPECT_FALSE(limiter.TryAcquire(1).permit);
  a.permit->Finish(1000);  // used far less than estimated: 5,000 come back
  EXPECT_TRUE(limiter.TryAcquire(5000).permit);
  RateLimiter::Attempt denied = limiter.TryAcquire(100);
  ASSERT_FALSE(denied.permit);
  EXPECT_EQ(*denied.retry_at_ms, clock.now + 1000);  // 100 tokens/s
}

TEST(RateLimiter, AnOverrunMakesLaterRequestsWait) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 0, 6000), clock.fn());
  RateLimiter::Attempt a = limiter.TryAcquire(1000);
  ASSERT_TRUE(a.permit);
  a.permit->Finish(9000);  // 8,000 more than estimated: the bucket owes 3,000
  RateLimiter::Attempt denied = limiter.TryAcquire(100);
  ASSERT_FALSE(denied.permit);
  EXPECT_EQ(*denied.retry_at_ms, clock.now + 31000);  // 3,100 tokens at 100/s
}

TEST(RateLimiter, AnEstimateAboveTheMinuteBudgetIsCappedSoItCanRun) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 0, 1000), clock.fn());
  EXPECT_TRUE(limiter.TryAcquire(50'000).permit);
}

TEST(RateLimiter, PauseFromA429HoldsEveryCallerUntilItEnds) {
  FakeClock clock;
  RateLimiter limiter(RateLimits{}, clock.fn());
  limiter.PauseFor(5000);
  RateLimiter::Attempt denied = limiter.TryAcquire(0);
  ASSERT_FALSE(denied.permit);
  EXPECT_EQ(*denied.retry_at_ms, clock.now + 5000);
  limiter.PauseFor(1000);  // a shorter pause does not cut the longer one
  clock.now += 4999;
  EXPECT_FALSE(limiter.TryAcquire(0).permit);
  clock.now += 1;
  EXPECT_TRUE(limiter.TryAcquire(0).permit);
}

TEST(RateLimiter, BlockedAcquireProceedsWhenAPermitEnds) {
  FakeClock clock;
  RateLimiter limiter(Limits(1), clock.fn());
  RateLimiter::Attempt held = limiter.TryAcquire(0);
  ASSERT_TRUE(held.permit);
  std::atomic<bool> finished{false};
  std::atomic<bool> got_early{false};
  std::thread waiter([&] {
    Result<RateLimiter::Permit> p = limiter.Acquire(0, std::stop_token());
    ASSERT_TRUE(p);
    if (!finished.load()) got_early = true;
  });
  finished = true;
  held.permit->Finish(0);
  waiter.join();
  EXPECT_FALSE(got_early.load());
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(RateLimiter, BlockedAcquireProceedsWhenTheClockPassesThePause) {
  FakeClock clock;
  RateLimiter limiter(RateLimits{}, clock.fn());
  limiter.PauseFor(60'000);  // a real minute: the test must not wait for it
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    Result<RateLimiter::Permit> p = limiter.Acquire(0, std::stop_token());
    got = p.has_value();
  });
  clock.now += 60'000;
  limiter.Wake();
  waiter.join();
  EXPECT_TRUE(got.load());
}

TEST(RateLimiter, StopRequestEndsABlockedAcquireWithCancelled) {
  FakeClock clock;
  RateLimiter limiter(Limits(1), clock.fn());
  RateLimiter::Attempt held = limiter.TryAcquire(0);
  ASSERT_TRUE(held.permit);
  std::stop_source stop;
  Status outcome;
  std::thread waiter([&] {
    Result<RateLimiter::Permit> p = limiter.Acquire(0, stop.get_token());
    outcome = p ? Status::Ok() : p.error();
  });
  stop.request_stop();
  waiter.join();
  EXPECT_EQ(outcome.code(), StatusCode::kCancelled);
  EXPECT_EQ(limiter.in_flight(), 1);
}

TEST(RateLimiters, OneLimiterPerProviderSharedByEveryCaller) {
  FakeClock clock;
  RateLimiters limiters(clock.fn());
  RateLimits limits{.max_concurrent_requests = 1};
  auto a = limiters.For("openai", limits);
  auto b = limiters.For("openai", limits);
  auto c = limiters.For("anthropic", limits);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  RateLimiter::Attempt first = (*a)->TryAcquire(0);
  ASSERT_TRUE(first.permit);
  EXPECT_FALSE((*b)->TryAcquire(0).permit);  // the other agent waits
  EXPECT_TRUE((*c)->TryAcquire(0).permit);   // another provider does not
  auto conflicting = limiters.For("openai", Limits(2));
  ASSERT_FALSE(conflicting);
  EXPECT_EQ(conflicting.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tandem::providers
