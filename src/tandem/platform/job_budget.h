// JobBudget: one process-wide pool of job tokens that bounds how many gates
// and commands run at once across all agents, like make's jobserver or
// ninja's -j capacity. Whoever starts a subprocess that does real work holds
// a token while it runs; with N tokens, at most N such jobs run at a time,
// however many agents and gate runners ask.
//
//   JobBudget budget(JobBudget::DefaultCapacity());
//   Result<JobBudget::Token> token = budget.Acquire(stop);  // blocks
//   if (!token) return token.error();                        // cancelled
//   ... run the job; the token returns to the pool when it goes out of scope.
//
// Fairness: waiters are woken together and race for a freed token; there is
// no FIFO order (make's jobserver has none either).
//
// One per process: the composition root owns it (cli::Runtime::jobs, sized
// by limits.jobs) and hands it down, never as a global: agent::TaskEnv::
// job_budget -> tools::ToolOptions::jobs (run_command) and
// verify::GateRunOptions::jobs (every gate).
//
// Thread-safety: every method may be called from any thread. The budget must
// outlive its tokens.
#pragma once

#include <condition_variable>
#include <optional>
#include <stop_token>

#include "tandem/base/mutex.h"
#include "tandem/base/status.h"
#include "tandem/base/thread_annotations.h"

namespace tandem::platform {

class JobBudget {
 public:
  // A held job slot; returns to its budget on destruction or Release().
  // Move-only. A moved-from or released token holds nothing.
  class Token {
   public:
    Token() = default;
    Token(Token&& other) noexcept : budget_(other.budget_) { other.budget_ = nullptr; }
    Token& operator=(Token&& other) noexcept;
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() { Release(); }

    bool held() const { return budget_ != nullptr; }
    void Release();

   private:
    friend class JobBudget;
    explicit Token(JobBudget* budget) : budget_(budget) {}
    JobBudget* budget_ = nullptr;
  };

  // The machine's hardware threads (at least 1): the default capacity.
  static int DefaultCapacity();

  // A budget of `capacity` tokens; a capacity below 1 means
  // DefaultCapacity().
  explicit JobBudget(int capacity);
  JobBudget(const JobBudget&) = delete;
  JobBudget& operator=(const JobBudget&) = delete;

  int capacity() const { return capacity_; }
  int available() const EXCLUDES(mu_);
  // Callers blocked in Acquire() now (for status lines and tests).
  int waiting() const EXCLUDES(mu_);

  // Blocks until a token is free and returns it, or returns Cancelled as
  // soon as `stop` is requested (also when it already was: a cancelled
  // caller never takes a token).
  Result<Token> Acquire(std::stop_token stop) EXCLUDES(mu_);

  // A token if one is free now; never blocks.
  std::optional<Token> TryAcquire() EXCLUDES(mu_);

 private:
  void Return() EXCLUDES(mu_);

  const int capacity_;
  mutable Mutex mu_;
  std::condition_variable_any freed_;  // signalled when a token returns or a waiter is cancelled
  int available_ GUARDED_BY(mu_);
  int waiting_ GUARDED_BY(mu_) = 0;
};

}  // namespace tandem::platform
