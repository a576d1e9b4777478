// What the process-wide budgets add to each job and each model request:
// taking and returning a JobBudget token (every gate and run_command) and a
// RateLimiter permit (every attempt of a model request), uncontended and
// with 4 threads at once. The waits themselves are the point of the budgets
// and are not measured: every benchmark runs with capacity to spare.
#include <benchmark/benchmark.h>

#include <stop_token>

#include "tandem/platform/job_budget.h"
#include "tandem/providers/rate_limiter.h"

namespace {

using tandem::platform::JobBudget;
using tandem::providers::RateLimiter;
using tandem::providers::RateLimits;

// As a gate or a command takes it: a blocking Acquire with the agent's
// cancellation token (which registers a stop callback), then the release.
void BM_JobToken(benchmark::State& state) {
  static JobBudget budget(64);
  std::stop_source cancel;
  for (auto _ : state) {
    auto token = budget.Acquire(cancel.get_token());
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_JobToken)->ThreadRange(1, 4)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_JobTokenTry(benchmark::State& state) {
  static JobBudget budget(64);
  for (auto _ : state) {
    auto token = budget.TryAcquire();
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_JobTokenTry)->Repetitions(10)->ReportAggregatesOnly(true);

// As StreamingClient takes it: TryAcquire with the request's token estimate,
// then Finish with the reply's usage; all three limits on, high enough never
// to hold a request back here (the buckets refill faster than the loop
// drains them, and the usage settles exactly the estimate).
RateLimiter& Limiter() {
  static RateLimiter limiter(RateLimits{64, 2'000'000'000, 1'000'000'000'000});
  return limiter;
}

void BM_RatePermit(benchmark::State& state) {
  RateLimiter& limiter = Limiter();
  for (auto _ : state) {
    RateLimiter::Attempt attempt = limiter.TryAcquire(2000);
    benchmark::DoNotOptimize(attempt);
    if (attempt.permit) attempt.permit->Finish(2000);
  }
}
BENCHMARK(BM_RatePermit)->ThreadRange(1, 4)->Repetitions(10)->ReportAggregatesOnly(true);

// The blocking form (a request the limiter held back, from Wait()).
void BM_RatePermitBlocking(benchmark::State& state) {
  RateLimiter& limiter = Limiter();
  std::stop_source cancel;
  for (auto _ : state) {
    auto permit = limiter.Acquire(2000, cancel.get_token());
    benchmark::DoNotOptimize(permit);
    if (permit) permit->Finish(2000);
  }
}
BENCHMARK(BM_RatePermitBlocking)->Repetitions(10)->ReportAggregatesOnly(true);

// No limit at all: the floor (the lock, the clock read and the checks).
void BM_RatePermitNoLimits(benchmark::State& state) {
  static RateLimiter limiter(RateLimits{});
  for (auto _ : state) {
    RateLimiter::Attempt attempt = limiter.TryAcquire(2000);
    benchmark::DoNotOptimize(attempt);
  }
}
BENCHMARK(BM_RatePermitNoLimits)->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
