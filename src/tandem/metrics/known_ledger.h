// Test-only: a ledger with known contents, written through the Ledger API
// with a hand-moved clock, and the figures it must produce (compute_test.cc
// derives each one, with the arithmetic, from the rows listed here).
//
// Runs (T = kT0; all in the 7-day window ending at kNow except E):
//   A  do    T          .. T+10s    succeeded  implicit task (tier executor):
//            s1 a1 done  fast in1000 out200 cached400 $0.010 ttft100 dur600  tool 50
//            s2 a1 rb    fast in1200 out300           $0.012 ttft200 dur800  tool 30
//                        gate fail 1000, rollback
//            s3 a2 done  fast in1500 out100           $0.015 ttft300 dur500  tool 20
//                        gate pass 1000, gate cached 1000 (a cache hit)
//   D  plan  T+30s .. T+40s     succeeded  big (role planner, tier planner)
//                        in2000 out500 $0.050 ttft1000 dur5000 (outside any step)
//   U  undo  T+50s .. T+52s     succeeded  (not a run: stats leaves it out)
//   B  run   T+60s .. T+260s    failed     tasks:
//            (tasks t1, t3, t5 have attempts 1; t4 has 0)
//            t1 executor done     s a1 fast in800 out100 $0.008 ttft120 dur620 tool 40,
//                                 gate pass 500; a steer note delivered to this step
//            t2 executor failed   tried twice (tasks.attempts 2), every step rolled
//                                 back after gate fail 500; first try a1, a2:
//                                 fast in900 out90 $0.009 ttft110 dur410
//                                 fast in1000 out100 $0.010 ttft130 dur530
//                                 escalation executor -> planner; second try a1:
//                                 fast in1100 out110 $0.011 ttft140 dur690
//            t3 planner done      s a1 big (role executor) in3000 out600 $0.090 ttft900
//                                 dur6900, tool 200, gate pass 500; approved by a
//                                 person after 90 s (approval names the step only)
//            t4 executor skipped  denied by a person after 30 s, no steps
//            t5 planner done      s a1 big (role executor) in1000 out200 $0.030 ttft800
//                                 dur2800, gate pass 500; approved by policy (5 ms)
//   C  do    T+120s .. T+150s   succeeded  implicit task: s a1 fast in500 out50 $0.005
//                                 ttft150 dur400, tool 60, gate pass 700; an
//                                 undelivered steer note
//   F  do    T+200s ..          running    s a1 (running) fast in100 out0 $0.001 ttft0
//                                 dur2000, error "overloaded"
//   E  do    T-10d .. T-10d+5s  failed     s a1 fast in100 out10 $1.000 ttft50 dur150
// Model "fast" and "big" are both from provider "p"; fast calls have role
// and tier executor.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tandem/ledger/ledger.h"

namespace tandem::metrics::testing {

inline constexpr int64_t kT0 = 1'800'000'000'000;
inline constexpr int64_t kNow = kT0 + 300'000;
inline constexpr int64_t kDay = 86'400'000;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "metrics_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes the ledger described above. Test assertions fail on any API error.
class KnownLedger {
 public:
  explicit KnownLedger(const std::filesystem::path& path) {
    auto opened = ledger::Ledger::Open({path, [this] { return now_; }});
    if (!opened) std::abort();
    ledger_ = std::move(*opened);
    Write();
  }
  ledger::Ledger& ledger() { return *ledger_; }

 private:
  using StepId = ledger::StepId;

  void At(int64_t t) { now_ = t; }
  void Begin(const std::string& id, const std::string& kind) {
    ASSERT_TRUE(ledger_->BeginRun({.id = id, .kind = kind, .goal = "g", .repo = "/repo"}).ok());
  }
  void End(const std::string& id, ledger::RunOutcome outcome) {
    ASSERT_TRUE(ledger_->EndRun(id, {.outcome = outcome}).ok());
  }
  void Task(const std::string& run, const std::string& task, const std::string& tier,
            ledger::TaskState state, int64_t attempts = 0) {
    ASSERT_TRUE(ledger_
                    ->UpsertTask({.run_id = run,
                                  .task_id = task,
                                  .tier = tier,
                                  .state = state,
                                  .attempts = attempts})
                    .ok());
  }
  StepId Step(const std::string& run, const std::string& task, int64_t attempt) {
    auto id = ledger_->BeginStep({.run_id = run, .task_id = task, .attempt = attempt});
    EXPECT_TRUE(id) << id.error().ToString();
    return id.value_or(0);
  }
  void EndStep(StepId step, ledger::StepState state) {
    ASSERT_TRUE(ledger_->EndStep(step, {.state = state}).ok());
  }
  // A model call of "fast" (role and tier executor) or "big".
  void Call(const std::string& run, std::optional<StepId> step, const std::string& model,
            const std::string& role, const std::string& tier, int64_t in, int64_t out, double cost,
            int64_t ttft, int64_t duration, int64_t cached = 0, const std::string& error = "") {
    ledger::ModelCallRecord c;
    c.run_id = run;
    c.step_id = step;
    c.role = role;
    c.tier = tier;
    c.provider = "p";
    c.model = model;
    c.tokens_in = in;
    c.tokens_out = out;
    c.tokens_cached = cached;
    c.cost_usd = cost;
    c.ttft_ms = ttft;
    c.duration_ms = duration;
    c.error_kind = error;
    ASSERT_TRUE(ledger_->RecordModelCall(c).ok());
  }
  void Fast(const std::string& run, StepId step, int64_t in, int64_t out, double cost, int64_t ttft,
            int64_t duration, int64_t cached = 0) {
    Call(run, step, "fast", "executor", "executor", in, out, cost, ttft, duration, cached);
  }
  void Tool(StepId step, int64_t ms) {
    ASSERT_TRUE(
        ledger_->RecordToolCall({.step_id = step, .name = "edit_file", .duration_ms = ms}).ok());
  }
  void Gate(const std::string& run, StepId step, ledger::GateVerdict verdict, int64_t ms) {
    ASSERT_TRUE(ledger_
                    ->RecordGateRun({.run_id = run,
                                     .step_id = step,
                                     .gate = "test",
                                     .command = "sh test.sh",
                                     .tree_hash = "tree",
                                     .verdict = verdict,
                                     .duration_ms = ms})
                    .ok());
  }
  void Rollback(StepId step) {
    ASSERT_TRUE(ledger_->RecordRollback({.step_id = step, .reason = "gate test failed"}).ok());
  }
  void Approval(const std::string& run, const std::string& task, std::optional<StepId> step,
                ledger::ApprovalDecision decision, ledger::DecidedBy by, int64_t waited_ms) {
    ASSERT_TRUE(ledger_
                    ->RecordApproval({.run_id = run,
                                      .task_id = task,
                                      .step_id = step,
                                      .what = "rm -rf build",
                                      .decision = decision,
                                      .decided_by = by,
                                      .waited_ms = waited_ms})
                    .ok());
  }

  void Write() {
    using ledger::GateVerdict;
    using ledger::RunOutcome;
    using ledger::StepState;
    using ledger::TaskState;
    // ---- A: do, succeeded after one retry ----
    At(kT0);
    Begin("A", "do");
    StepId a1 = Step("A", "", 1);
    Fast("A", a1, 1000, 200, 0.010, 100, 600, /*cached=*/400);
    Tool(a1, 50);
    EndStep(a1, StepState::kDone);
    StepId a2 = Step("A", "", 1);
    Fast("A", a2, 1200, 300, 0.012, 200, 800);
    Tool(a2, 30);
    Gate("A", a2, GateVerdict::kFail, 1000);
    Rollback(a2);
    EndStep(a2, StepState::kRolledBack);
    StepId a3 = Step("A", "", 2);
    Fast("A", a3, 1500, 100, 0.015, 300, 500);
    Tool(a3, 20);
    Gate("A", a3, GateVerdict::kPass, 1000);
    Gate("A", a3, GateVerdict::kCached, 1000);
    EndStep(a3, StepState::kDone);
    At(kT0 + 10'000);
    End("A", RunOutcome::kSucceeded);

    // ---- D: plan ----
    At(kT0 + 30'000);
    Begin("D", "plan");
    Call("D", std::nullopt, "big", "planner", "planner", 2000, 500, 0.050, 1000, 5000);
    At(kT0 + 40'000);
    End("D", RunOutcome::kSucceeded);

    // ---- U: an undo (logged in runs, but not a run) ----
    At(kT0 + 50'000);
    Begin("U", "undo");
    At(kT0 + 52'000);
    End("U", RunOutcome::kSucceeded);

    // ---- B: run with five tasks, failed ----
    At(kT0 + 60'000);
    Begin("B", "run");
    Task("B", "t1", "executor", TaskState::kRunning);
    Task("B", "t2", "executor", TaskState::kPending);
    Task("B", "t3", "planner", TaskState::kPending);
    Task("B", "t4", "executor", TaskState::kPending);
    Task("B", "t5", "planner", TaskState::kPending);
    StepId b1 = Step("B", "t1", 1);
    auto note = ledger_->AddSteerNote("B", "only change X", "cli");
    ASSERT_TRUE(note);
    ASSERT_TRUE(ledger_->MarkSteerDelivered(*note, b1).ok());
    Fast("B", b1, 800, 100, 0.008, 120, 620);
    Tool(b1, 40);
    Gate("B", b1, GateVerdict::kPass, 500);
    EndStep(b1, StepState::kDone);
    Task("B", "t1", "executor", TaskState::kDone, 1);
    struct Try {
      int64_t in, out;
      double cost;
      int64_t ttft, duration;
    };
    auto failing_step = [&](int64_t attempt, Try t) {
      StepId s = Step("B", "t2", attempt);
      Fast("B", s, t.in, t.out, t.cost, t.ttft, t.duration);
      Gate("B", s, GateVerdict::kFail, 500);
      Rollback(s);
      EndStep(s, StepState::kRolledBack);
    };
    Task("B", "t2", "executor", TaskState::kRunning, 1);
    failing_step(1, {900, 90, 0.009, 110, 410});
    failing_step(2, {1000, 100, 0.010, 130, 530});
    ASSERT_TRUE(ledger_
                    ->RecordEscalation({.run_id = "B",
                                        .task_id = "t2",
                                        .from_tier = "executor",
                                        .to_tier = "planner",
                                        .action = ledger::EscalationAction::kSlowTier})
                    .ok());
    Task("B", "t2", "executor", TaskState::kRunning, 2);
    failing_step(1, {1100, 110, 0.011, 140, 690});  // a fresh try starts at attempt 1
    Task("B", "t2", "executor", TaskState::kFailed, 2);
    StepId b3 = Step("B", "t3", 1);
    Approval("B", "", b3, ledger::ApprovalDecision::kApproved, ledger::DecidedBy::kPerson, 90'000);
    Call("B", b3, "big", "executor", "planner", 3000, 600, 0.090, 900, 6900);
    Tool(b3, 200);
    Gate("B", b3, GateVerdict::kPass, 500);
    EndStep(b3, StepState::kDone);
    Task("B", "t3", "planner", TaskState::kDone, 1);
    Approval("B", "t4", std::nullopt, ledger::ApprovalDecision::kDenied, ledger::DecidedBy::kPerson,
             30'000);
    Task("B", "t4", "executor", TaskState::kSkipped);
    StepId b5 = Step("B", "t5", 1);
    Approval("B", "t5", b5, ledger::ApprovalDecision::kApproved, ledger::DecidedBy::kPolicy, 5);
    Call("B", b5, "big", "executor", "planner", 1000, 200, 0.030, 800, 2800);
    Gate("B", b5, GateVerdict::kPass, 500);
    EndStep(b5, StepState::kDone);
    Task("B", "t5", "planner", TaskState::kDone, 1);
    At(kT0 + 260'000);
    End("B", RunOutcome::kFailed);

    // ---- C: do, succeeded, with a steer note that was never delivered ----
    At(kT0 + 120'000);
    Begin("C", "do");
    ASSERT_TRUE(ledger_->AddSteerNote("C", "don't touch the types", "dashboard"));
    StepId c1 = Step("C", "", 1);
    Fast("C", c1, 500, 50, 0.005, 150, 400);
    Tool(c1, 60);
    Gate("C", c1, GateVerdict::kPass, 700);
    EndStep(c1, StepState::kDone);
    At(kT0 + 150'000);
    End("C", RunOutcome::kSucceeded);

    // ---- F: do, still running; its one call failed ----
    At(kT0 + 200'000);
    Begin("F", "do");
    StepId f1 = Step("F", "", 1);
    Call("F", f1, "fast", "executor", "executor", 100, 0, 0.001, 0, 2000, 0, "overloaded");

    // ---- E: do, ten days earlier, failed ----
    At(kT0 - 10 * kDay);
    Begin("E", "do");
    StepId e1 = Step("E", "", 1);
    Fast("E", e1, 100, 10, 1.000, 50, 150);
    EndStep(e1, StepState::kDone);
    At(kT0 - 10 * kDay + 5'000);
    End("E", RunOutcome::kFailed);
    At(kNow);
  }

  int64_t now_ = kT0;
  std::unique_ptr<ledger::Ledger> ledger_;
};

}  // namespace tandem::metrics::testing
