#include <gtest/gtest.h>

#include "tandem/ledger/done_tasks.h"
#include "tandem/ledger/ledger.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::ChildProcess;
using testing::ManualClock;
using testing::OpenOrDie;
using testing::TempDir;

class LedgerQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "ledger.db";
    ledger_ = OpenOrDie(path_, clock_);
  }
  void StartRun(const std::string& id, const std::string& kind = "do",
                std::optional<ProcessIdentity> owner = std::nullopt,
                const std::string& repo = "/repo") {
    ASSERT_TRUE(
        ledger_->BeginRun(RunStart{.id = id, .kind = kind, .repo = repo, .owner = owner}).ok());
  }
  StepId Step(const std::string& run, const std::string& checkpoint = "cp") {
    auto step = ledger_->BeginStep(StepStart{.run_id = run, .checkpoint_before = checkpoint});
    EXPECT_TRUE(step) << step.error().ToString();
    return step.value_or(0);
  }

  TempDir dir_;
  ManualClock clock_;
  std::filesystem::path path_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerQueryTest, StepOfADeadProcessIsInterruptedAndOfALiveOneIsNot) {
  ChildProcess dead;
  ChildProcess alive;
  StartRun("dead", "run", dead.identity());
  StartRun("alive", "run", alive.identity());
  StartRun("mine", "run");
  StepId dead_done = Step("dead");
  ASSERT_TRUE(ledger_->EndStep(dead_done, StepEnd{}).ok());
  StepId dead_step = Step("dead", "cp-dead");
  Step("alive");
  Step("mine");
  dead.Kill();

  auto steps = ledger_->FindInterruptedSteps();
  ASSERT_TRUE(steps) << steps.error().ToString();
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].id, dead_step);
  EXPECT_EQ((*steps)[0].run_id, "dead");
  EXPECT_EQ((*steps)[0].checkpoint_before, "cp-dead");
  EXPECT_TRUE(ledger_->FindInterruptedSteps("alive")->empty());
  EXPECT_EQ(ledger_->FindInterruptedSteps("dead")->size(), 1u);

  auto orphans = ledger_->FindOrphanedRuns();
  ASSERT_EQ(orphans->size(), 1u);
  EXPECT_EQ((*orphans)[0].id, "dead");
  auto active = ledger_->ActiveRuns();
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].id, "alive");
  EXPECT_EQ((*active)[1].id, "mine");

  // Once the alive process dies too, its step is interrupted.
  alive.Kill();
  EXPECT_EQ(ledger_->FindInterruptedSteps()->size(), 2u);
}

TEST_F(LedgerQueryTest, AdoptingADeadRunInterruptsItsStepAndContinuesNumbering) {
  ChildProcess owner;
  StartRun("r1", "run", owner.identity());
  Step("r1");
  // A live owner keeps its run.
  EXPECT_EQ(ledger_->AdoptRun("r1").code(), StatusCode::kFailedPrecondition);
  owner.Kill();
  clock_.now += 100;
  ASSERT_TRUE(ledger_->AdoptRun("r1").ok());
  auto run = ledger_->GetRun("r1");
  EXPECT_EQ((*run)->owner, ProcessIdentity::Current());
  EXPECT_EQ((*run)->outcome, RunOutcome::kRunning);
  EXPECT_TRUE(ledger_->FindInterruptedSteps()->empty());
  StepId next = Step("r1");
  auto steps = ledger_->ListSteps("r1");
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].state, StepState::kInterrupted);
  EXPECT_EQ((*steps)[0].ended_at, clock_.now);
  EXPECT_EQ((*steps)[1].id, next);
  EXPECT_EQ((*steps)[1].n, 2);
  ASSERT_TRUE(ledger_->EndStep(next, StepEnd{}).ok());
  ASSERT_TRUE(ledger_->EndRun("r1", RunEnd{}).ok());
  EXPECT_EQ(ledger_->AdoptRun("r1").code(), StatusCode::kFailedPrecondition);  // succeeded
  EXPECT_EQ(ledger_->AdoptRun("nope").code(), StatusCode::kNotFound);
  EXPECT_TRUE(ledger_->IntegrityCheck()->empty());
}

TEST_F(LedgerQueryTest, LastRunIsTheLatestOfItsKind) {
  EXPECT_FALSE(ledger_->LastRun("do")->has_value());
  StartRun("d1", "do");
  clock_.now += 1;
  StartRun("r1", "run");
  clock_.now += 1;
  StartRun("d2", "do");
  clock_.now += 1;
  StartRun("p1", "plan");
  EXPECT_EQ((*ledger_->LastRun("do"))->id, "d2");
  EXPECT_EQ((*ledger_->LastRun("run"))->id, "r1");
  EXPECT_EQ((*ledger_->LastRun())->id, "p1");
  EXPECT_FALSE(ledger_->LastRun("demo")->has_value());
}

TEST_F(LedgerQueryTest, DoneTasksOfEveryRunAreListedAndNoOthers) {
  StartRun("r1", "run");
  StartRun("r2", "run");
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r1", .task_id = "T1", .title = "One",
                                          .state = TaskState::kDone})
                  .ok());
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r1", .task_id = "T2", .title = "Two",
                                          .state = TaskState::kFailed})
                  .ok());
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r2", .task_id = "T3", .title = "Three",
                                          .state = TaskState::kRunning})
                  .ok());
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r2", .task_id = "T3", .title = "Three",
                                          .state = TaskState::kDone})
                  .ok());
  auto done = ListDoneTasks(*ledger_);
  ASSERT_TRUE(done) << done.error().ToString();
  ASSERT_EQ(done->size(), 2u);
  EXPECT_EQ((*done)[0].run_id, "r1");
  EXPECT_EQ((*done)[0].task_id, "T1");
  EXPECT_EQ((*done)[0].title, "One");
  EXPECT_EQ((*done)[1].run_id, "r2");
  EXPECT_EQ((*done)[1].task_id, "T3");
}

TEST_F(LedgerQueryTest, GateCacheHitsOnlyForTheSameTreeGateAndCommand) {
  StartRun("r1");
  StepId s = Step("r1");
  auto record = [&](std::string tree, std::string gate, std::string command, GateVerdict v,
                    std::optional<int64_t> exit_code) {
    ASSERT_TRUE(ledger_
                    ->RecordGateRun(GateRunRecord{.step_id = s,
                                                  .gate = gate,
                                                  .command = command,
                                                  .tree_hash = tree,
                                                  .verdict = v,
                                                  .duration_ms = 1234,
                                                  .exit_code = exit_code,
                                                  .output_excerpt = "out " + tree})
                    .ok());
  };
  record("tree1", "test", "ctest", GateVerdict::kPass, 0);
  record("tree2", "test", "ctest", GateVerdict::kError, std::nullopt);   // timeouts are not cached
  record("tree3", "test", "ctest", GateVerdict::kCached, std::nullopt);  // nor are cache hits

  auto hit = ledger_->GateCacheLookup("tree1", "test", "ctest");
  ASSERT_TRUE(hit);
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->verdict, GateVerdict::kPass);
  EXPECT_EQ((*hit)->exit_code, 0);
  EXPECT_EQ((*hit)->output_excerpt, "out tree1");
  EXPECT_EQ((*hit)->duration_ms, 1234);
  EXPECT_EQ((*hit)->at, clock_.now);

  EXPECT_FALSE(ledger_->GateCacheLookup("tree9", "test", "ctest")->has_value());
  EXPECT_FALSE(ledger_->GateCacheLookup("tree1", "lint", "ctest")->has_value());
  EXPECT_FALSE(ledger_->GateCacheLookup("tree1", "test", "ctest -j8")->has_value());
  EXPECT_FALSE(ledger_->GateCacheLookup("tree2", "test", "ctest")->has_value());
  EXPECT_FALSE(ledger_->GateCacheLookup("tree3", "test", "ctest")->has_value());

  // The latest verdict wins (a flaky gate re-run on the same tree).
  clock_.now += 10;
  record("tree1", "test", "ctest", GateVerdict::kFail, 8);
  EXPECT_EQ((*ledger_->GateCacheLookup("tree1", "test", "ctest"))->verdict, GateVerdict::kFail);
  EXPECT_EQ((*ledger_->GateCacheLookup("tree1", "test", "ctest"))->exit_code, 8);
}

TEST_F(LedgerQueryTest, RunSummaryCountsEverythingInTheRun) {
  StartRun("r1", "run");
  StartRun("other", "run");
  ASSERT_TRUE(
      ledger_->UpsertTask(TaskRow{.run_id = "r1", .task_id = "t1", .state = TaskState::kDone})
          .ok());
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r1", .task_id = "t2"}).ok());
  StepId s1 = Step("r1");
  ASSERT_TRUE(ledger_->RecordToolCall(ToolCallRecord{.step_id = s1, .name = "a"}).ok());
  ASSERT_TRUE(ledger_
                  ->RecordToolCall(
                      ToolCallRecord{.step_id = s1, .name = "b", .outcome = ToolOutcome::kError})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordToolCall(
                      ToolCallRecord{.step_id = s1, .name = "c", .outcome = ToolOutcome::kRefused})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordGateRun(GateRunRecord{
                      .step_id = s1, .gate = "g", .tree_hash = "h", .verdict = GateVerdict::kFail})
                  .ok());
  ASSERT_TRUE(ledger_->RecordRollback(RollbackRecord{.step_id = s1, .reason = "g failed"}).ok());
  ASSERT_TRUE(ledger_->EndStep(s1, StepEnd{.state = StepState::kRolledBack}).ok());
  StepId s2 = Step("r1");
  ASSERT_TRUE(ledger_
                  ->RecordGateRun(GateRunRecord{
                      .step_id = s2, .gate = "g", .tree_hash = "h2", .verdict = GateVerdict::kPass})
                  .ok());
  ASSERT_TRUE(
      ledger_
          ->RecordGateRun(GateRunRecord{
              .step_id = s2, .gate = "g2", .tree_hash = "h2", .verdict = GateVerdict::kCached})
          .ok());
  ASSERT_TRUE(ledger_->RecordModelCall(ModelCallRecord{.step_id = s2, .cost_usd = 0.2}).ok());
  ASSERT_TRUE(ledger_->EndStep(s2, StepEnd{}).ok());
  ASSERT_TRUE(ledger_->RecordEscalation(EscalationRecord{.run_id = "r1"}).ok());
  ASSERT_TRUE(ledger_->RecordApproval(ApprovalRecord{.run_id = "r1"}).ok());
  ASSERT_TRUE(
      ledger_->RecordApproval(ApprovalRecord{.run_id = "r1", .decision = ApprovalDecision::kDenied})
          .ok());
  ASSERT_TRUE(ledger_->AddSteerNote("r1", "n", "cli"));
  // Noise in another run.
  StepId o = Step("other");
  ASSERT_TRUE(ledger_->RecordToolCall(ToolCallRecord{.step_id = o, .name = "x"}).ok());

  clock_.now += 500;
  auto report = ledger_->RunSummary("r1");
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->run.id, "r1");
  ASSERT_EQ(report->tasks.size(), 2u);
  EXPECT_EQ(report->tasks[0].state, TaskState::kDone);
  EXPECT_EQ(report->totals.steps, 2);
  EXPECT_EQ(report->totals.wall_ms, 500);  // still running: measured to now
  EXPECT_DOUBLE_EQ(report->totals.cost_usd, 0.2);
  EXPECT_EQ(report->steps_done, 1);
  EXPECT_EQ(report->steps_rolled_back, 1);
  EXPECT_EQ(report->steps_interrupted, 0);
  EXPECT_EQ(report->model_calls, 1);
  EXPECT_EQ(report->tool_calls, 3);
  EXPECT_EQ(report->tool_errors, 1);
  EXPECT_EQ(report->tool_refusals, 1);
  EXPECT_EQ(report->gate_runs, 2);
  EXPECT_EQ(report->gate_failures, 1);
  EXPECT_EQ(report->gate_cache_hits, 1);
  EXPECT_EQ(report->rollbacks, 1);
  EXPECT_EQ(report->escalations, 1);
  EXPECT_EQ(report->approvals, 1);
  EXPECT_EQ(report->denials, 1);
  EXPECT_EQ(report->steer_notes, 1);
  EXPECT_EQ(ledger_->RunSummary("nope").error().code(), StatusCode::kNotFound);
}

// A small known ledger; the stats below are computed by hand from it.
class LedgerStatsTest : public LedgerQueryTest {
 protected:
  void SetUp() override {
    LedgerQueryTest::SetUp();
    // Run A (repo /a, kind run, t=1000): 2 tasks, one escalated; succeeded.
    clock_.now = 1000;
    StartRun("A", "run", std::nullopt, "/a");
    Task("A", "t1", "executor", TaskState::kDone, 2);
    Task("A", "t2", "planner", TaskState::kFailed, 1);
    StepId a1 = Step("A");
    Model(a1, "fast", "executor", 1000, 500, 0.10, 100, 600, "");
    Model(a1, "fast", "executor", 1000, 0, 0.05, 0, 50, "overloaded");
    ASSERT_TRUE(ledger_->RecordRollback(RollbackRecord{.step_id = a1}).ok());
    ASSERT_TRUE(ledger_->EndStep(a1, StepEnd{.state = StepState::kRolledBack}).ok());
    auto a2 = ledger_->BeginStep(StepStart{.run_id = "A", .attempt = 2});
    ASSERT_TRUE(a2);
    Model(*a2, "slow", "planner", 2000, 1000, 1.00, 1000, 3000, "");
    ASSERT_TRUE(ledger_->EndStep(*a2, StepEnd{}).ok());
    ASSERT_TRUE(
        ledger_
            ->RecordEscalation(EscalationRecord{
                .run_id = "A", .task_id = "t1", .from_tier = "executor", .to_tier = "planner"})
            .ok());
    ASSERT_TRUE(ledger_->RecordApproval(ApprovalRecord{.run_id = "A", .waited_ms = 60000}).ok());
    clock_.now = 5000;
    ASSERT_TRUE(ledger_->EndRun("A", RunEnd{}).ok());
    // Run B (repo /b, kind do, t=10000): one failed step; failed.
    clock_.now = 10000;
    StartRun("B", "do", std::nullopt, "/b");
    Task("B", "t1", "executor", TaskState::kFailed, 1);
    StepId b1 = Step("B");
    Model(b1, "fast", "executor", 500, 250, 0.02, 50, 300, "");
    ASSERT_TRUE(ledger_
                    ->RecordApproval(ApprovalRecord{
                        .run_id = "B", .decision = ApprovalDecision::kDenied, .waited_ms = 30000})
                    .ok());
    ASSERT_TRUE(ledger_->EndStep(b1, StepEnd{}).ok());
    clock_.now = 12000;
    ASSERT_TRUE(ledger_->EndRun("B", RunEnd{.outcome = RunOutcome::kFailed, .exit_code = 1}).ok());
  }
  void Task(const std::string& run, const std::string& id, const std::string& tier, TaskState state,
            int64_t attempts) {
    ASSERT_TRUE(
        ledger_
            ->UpsertTask(TaskRow{
                .run_id = run, .task_id = id, .tier = tier, .state = state, .attempts = attempts})
            .ok());
  }
  void Model(StepId step, const std::string& model, const std::string& role, int64_t in,
             int64_t out, double cost, int64_t ttft, int64_t duration, const std::string& error) {
    ASSERT_TRUE(ledger_
                    ->RecordModelCall(ModelCallRecord{.step_id = step,
                                                      .role = role,
                                                      .tier = role,
                                                      .provider = "p",
                                                      .model = model,
                                                      .tokens_in = in,
                                                      .tokens_out = out,
                                                      .cost_usd = cost,
                                                      .ttft_ms = ttft,
                                                      .duration_ms = duration,
                                                      .error_kind = error})
                    .ok());
  }
};

TEST_F(LedgerStatsTest, RunStatsMatchTheKnownLedger) {
  auto s = ledger_->RunStats(StatsFilter{});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->runs, 2);
  EXPECT_EQ(s->runs_succeeded, 1);
  EXPECT_EQ(s->runs_failed, 1);
  EXPECT_EQ(s->runs_running, 0);
  EXPECT_EQ(s->tasks, 3);
  EXPECT_EQ(s->tasks_done, 1);
  EXPECT_EQ(s->tasks_failed, 2);
  EXPECT_EQ(s->steps, 3);
  EXPECT_EQ(s->retries, 1);
  EXPECT_EQ(s->rollbacks, 1);
  EXPECT_EQ(s->escalations, 1);
  EXPECT_EQ(s->approvals, 2);
  EXPECT_EQ(s->denials, 1);
  EXPECT_EQ(s->human_ms, 90000);
  EXPECT_NEAR(s->cost_usd, 1.17, 1e-12);
  EXPECT_EQ(s->tokens_in, 4500);
  EXPECT_EQ(s->tokens_out, 1750);
  EXPECT_EQ(s->model_ms, 3950);
  EXPECT_EQ(s->wall_ms, 4000 + 2000);

  auto only_b = ledger_->RunStats(StatsFilter{.kind = "do"});
  EXPECT_EQ(only_b->runs, 1);
  EXPECT_EQ(only_b->runs_failed, 1);
  EXPECT_NEAR(only_b->cost_usd, 0.02, 1e-12);
  auto none = ledger_->RunStats(StatsFilter{.since_ms = 0, .until_ms = 1000});
  EXPECT_EQ(none->runs, 0);
  EXPECT_EQ(none->cost_usd, 0);
}

TEST_F(LedgerStatsTest, TierStatsCountTasksAndEscalationsPerTier) {
  auto rows = ledger_->TierStats(StatsFilter{});
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].tier, "executor");
  EXPECT_EQ((*rows)[0].tasks, 2);
  EXPECT_EQ((*rows)[0].done, 1);
  EXPECT_EQ((*rows)[0].failed, 1);
  EXPECT_EQ((*rows)[0].attempts, 3);
  EXPECT_EQ((*rows)[0].escalated_from, 1);
  EXPECT_EQ((*rows)[1].tier, "planner");
  EXPECT_EQ((*rows)[1].escalated_from, 0);
}

TEST_F(LedgerStatsTest, RawQueryBindsParametersAndRefusesWrites) {
  auto result =
      ledger_->Query("SELECT id, cost_usd, ended_at - ?1 FROM runs ORDER BY id", {int64_t{1000}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->columns, (std::vector<std::string>{"id", "cost_usd", "ended_at - ?1"}));
  ASSERT_EQ(result->rows.size(), 2u);
  EXPECT_EQ(std::get<std::string>(result->rows[0][0]), "A");
  EXPECT_NEAR(std::get<double>(result->rows[0][1]), 1.15, 1e-12);
  EXPECT_EQ(std::get<int64_t>(result->rows[0][2]), 4000);
  auto write = ledger_->Query("DELETE FROM runs");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ledger_->RunStats(StatsFilter{})->runs, 2);
}

TEST_F(LedgerStatsTest, IntegrityCheckPassesOnAHealthyLedger) {
  auto problems = ledger_->IntegrityCheck();
  ASSERT_TRUE(problems) << problems.error().ToString();
  EXPECT_TRUE(problems->empty()) << (*problems)[0];
}

TEST_F(LedgerStatsTest, IntegrityCheckReportsBrokenInvariants) {
  {
    // Break the ledger behind its back, as a buggy writer or a crash could.
    auto db = Db::Open(path_, false);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)
                    ->Exec("UPDATE steps SET state = 'running', ended_at = NULL"
                           " WHERE run_id = 'B';"
                           "PRAGMA foreign_keys = OFF;"
                           "INSERT INTO tool_calls (step_id, name, outcome, at)"
                           " VALUES (999, 'ghost', 'ok', 0);")
                    .ok());
  }
  auto problems = ledger_->IntegrityCheck();
  ASSERT_TRUE(problems);
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_NE((*problems)[0].find("foreign key: tool_calls"), std::string::npos) << (*problems)[0];
  EXPECT_NE((*problems)[1].find("step still 'running' in an ended run"), std::string::npos)
      << (*problems)[1];
}

TEST_F(LedgerQueryTest, EscalationCountsArePerTaskOfTheRun) {
  StartRun("r1", "run");
  StartRun("r2", "run");
  for (const char* task : {"T1", "T1", "T2"}) {
    ASSERT_TRUE(ledger_->RecordEscalation({.run_id = "r1", .task_id = task}).ok());
  }
  ASSERT_TRUE(ledger_->RecordEscalation({.run_id = "r2", .task_id = "T1"}).ok());
  auto counts = ledger_->EscalationCounts("r1");
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ(*counts, (std::map<std::string, int>{{"T1", 2}, {"T2", 1}}));
  EXPECT_TRUE(ledger_->EscalationCounts("none")->empty());
}

TEST_F(LedgerQueryTest, RunningStepOfATaskIsItsLatestUnfinishedStep) {
  StartRun("r1", "run");
  auto begin = [&](const char* task) {
    return ledger_->BeginStep(StepStart{.run_id = "r1", .task_id = task}).value_or(0);
  };
  StepId done = begin("T1");
  ASSERT_TRUE(ledger_->EndStep(done, StepEnd{}).ok());
  EXPECT_FALSE(ledger_->RunningStepOf("r1", "T1")->has_value());
  StepId running = begin("T1");
  begin("T2");
  auto step = ledger_->RunningStepOf("r1", "T1");
  ASSERT_TRUE(step && step->has_value());
  EXPECT_EQ(**step, running);
}

TEST_F(LedgerQueryTest, RunningStepOfNoTaskIsTheLatestUnfinishedStepOfADo) {
  StartRun("d1", "do");
  auto step = ledger_->BeginStep(StepStart{.run_id = "d1"});  // `tandem do`: no task id
  ASSERT_TRUE(step) << step.error().ToString();
  auto running = ledger_->RunningStepOf("d1", "");
  ASSERT_TRUE(running && running->has_value());
  EXPECT_EQ(**running, *step);
  ASSERT_TRUE(ledger_->EndStep(*step, StepEnd{}).ok());
  EXPECT_FALSE(ledger_->RunningStepOf("d1", "")->has_value());
}

TEST_F(LedgerQueryTest, UndoableRunsAreNewestFirstWithTheUndoThatUndidThem) {
  StartRun("a", "do");
  clock_.now += 1000;
  StartRun("b", "run");
  clock_.now += 1000;
  ASSERT_TRUE(ledger_->BeginRun(RunStart{.id = "undo-1", .kind = "undo", .goal = "undo b"}).ok());
  ASSERT_TRUE(ledger_->EndRun("undo-1", RunEnd{.outcome = RunOutcome::kSucceeded}).ok());
  auto runs = ledger_->UndoableRuns();
  ASSERT_TRUE(runs) << runs.error().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].run_id, "b");
  EXPECT_EQ((*runs)[0].undone_by, "undo-1");
  EXPECT_EQ((*runs)[1].run_id, "a");
  EXPECT_EQ((*runs)[1].undone_by, "");
}


TEST_F(LedgerQueryTest, RecentModelCallsKeepsEachModelsNewestSuccessfulCallsOldestFirst) {
  StartRun("r");
  auto call = [&](const std::string& provider, const std::string& model, int64_t ttft,
                  const std::string& error = "") {
    ModelCallRecord c{.run_id = "r", .role = "executor", .provider = provider, .model = model};
    c.tokens_in = 1000;
    c.tokens_cached = 400;
    c.tokens_out = 20;
    c.ttft_ms = ttft;
    c.duration_ms = ttft + 100;
    c.error_kind = error;
    ASSERT_TRUE(ledger_->RecordModelCall(c).ok());
  };
  for (int i = 1; i <= 3; ++i) call("p", "a", i);
  for (int i = 1; i <= 20; ++i) call("p", "b", 100 + i);
  call("p", "a", 0);              // not measured: left out
  call("p", "a", 50, "timeout");  // failed: left out
  call("q", "a", 7);              // another provider's "a"

  auto rows = ledger_->RecentModelCalls(16);
  ASSERT_TRUE(rows) << rows.error().ToString();
  std::vector<int64_t> a, b, qa;
  for (const ModelSpeedRow& row : *rows) {
    (row.provider == "q" ? qa : row.model == "a" ? a : b).push_back(row.ttft_ms);
  }
  EXPECT_EQ(a, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(b.size(), 16u);
  EXPECT_EQ(b.front(), 105);  // the oldest of the newest 16
  EXPECT_EQ(b.back(), 120);
  EXPECT_EQ(qa, std::vector<int64_t>{7});
  EXPECT_EQ(rows->front().tokens_cached, 400);
  EXPECT_EQ(rows->front().role, "executor");
}

}  // namespace
}  // namespace tandem::ledger
