#include "tandem/platform/job_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace tandem::platform {
namespace {

TEST(JobBudget, CapacityBelowOneMeansTheMachinesCores) {
  JobBudget budget(0);
  EXPECT_EQ(budget.capacity(), JobBudget::DefaultCapacity());
  EXPECT_GE(budget.capacity(), 1);
}

TEST(JobBudget, TryAcquireFailsOnceEveryTokenIsHeld) {
  JobBudget budget(2);
  std::optional<JobBudget::Token> a = budget.TryAcquire();
  std::optional<JobBudget::Token> b = budget.TryAcquire();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(budget.TryAcquire().has_value());
  EXPECT_EQ(budget.available(), 0);
}

TEST(JobBudget, TokenReturnsWhenItGoesOutOfScope) {
  JobBudget budget(1);
  {
    std::optional<JobBudget::Token> token = budget.TryAcquire();
    ASSERT_TRUE(token);
    EXPECT_EQ(budget.available(), 0);
  }
  EXPECT_EQ(budget.available(), 1);
}

TEST(JobBudget, MovedTokenReturnsOnceOnly) {
  JobBudget budget(2);
  JobBudget::Token moved_to;
  {
    std::optional<JobBudget::Token> token = budget.TryAcquire();
    ASSERT_TRUE(token);
    moved_to = std::move(*token);
    EXPECT_FALSE(token->held());
    EXPECT_TRUE(moved_to.held());
  }
  EXPECT_EQ(budget.available(), 1);  // the moved-from token returned nothing
  moved_to.Release();
  moved_to.Release();  // a second release is a no-op
  EXPECT_EQ(budget.available(), 2);
}

TEST(JobBudget, AcquireWaitsUntilAHolderReleases) {
  JobBudget budget(1);
  std::optional<JobBudget::Token> held = budget.TryAcquire();
  ASSERT_TRUE(held);
  std::atomic<bool> released{false};
  std::atomic<bool> got_before_release{false};
  std::thread waiter([&] {
    Result<JobBudget::Token> token = budget.Acquire(std::stop_token());
    ASSERT_TRUE(token);
    if (!released.load()) got_before_release = true;
  });
  released = true;
  held->Release();
  waiter.join();
  EXPECT_FALSE(got_before_release.load());
  EXPECT_EQ(budget.available(), 1);
}

TEST(JobBudget, StopRequestWakesABlockedWaiterWithCancelled) {
  JobBudget budget(1);
  std::optional<JobBudget::Token> held = budget.TryAcquire();
  ASSERT_TRUE(held);
  std::stop_source stop;
  Status outcome;
  std::thread waiter([&] {
    Result<JobBudget::Token> token = budget.Acquire(stop.get_token());
    outcome = token ? Status::Ok() : token.error();
  });
  while (budget.waiting() == 0) std::this_thread::yield();  // asleep in Acquire
  stop.request_stop();
  waiter.join();
  EXPECT_EQ(outcome.code(), StatusCode::kCancelled);
  EXPECT_EQ(budget.available(), 0);  // still held by `held` only
  EXPECT_EQ(budget.waiting(), 0);
}

TEST(JobBudget, AlreadyCancelledCallerNeverTakesAFreeToken) {
  JobBudget budget(1);
  std::stop_source stop;
  stop.request_stop();
  Result<JobBudget::Token> token = budget.Acquire(stop.get_token());
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), StatusCode::kCancelled);
  EXPECT_EQ(budget.available(), 1);
}

TEST(JobBudget, NeverMoreJobsAtOnceThanTokensUnderContention) {
  constexpr int kCapacity = 3;
  constexpr int kThreads = 8;
  constexpr int kJobsPerThread = 2000;
  JobBudget budget(kCapacity);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kJobsPerThread; ++i) {
        std::optional<JobBudget::Token> token;
        if ((i + t) % 2 == 0) {
          token = budget.TryAcquire();
          if (!token) continue;
        } else {
          Result<JobBudget::Token> r = budget.Acquire(std::stop_token());
          if (!r) continue;
          token = std::move(*r);
        }
        int now = running.fetch_add(1) + 1;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        running.fetch_sub(1);
        done.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(peak.load(), kCapacity);
  EXPECT_GE(done.load(), kThreads * kJobsPerThread / 2);  // every blocking Acquire succeeded
  EXPECT_EQ(budget.available(), kCapacity);
}

}  // namespace
}  // namespace tandem::platform
