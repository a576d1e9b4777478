#include "tandem/ledger/ledger.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tandem/base/redact.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::ManualClock;
using testing::OpenOrDie;
using testing::ReadFile;
using testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "tandem" / "ledger.db";  // Open creates the directory
    ledger_ = OpenOrDie(path_, clock_);
  }
  void StartRun(const std::string& id, const std::string& kind = "do") {
    ASSERT_TRUE(ledger_
                    ->BeginRun(RunStart{.id = id,
                                        .kind = kind,
                                        .goal = "goal " + id,
                                        .repo = dir_.path().string(),
                                        .base_checkpoint = "base"})
                    .ok());
  }
  StepId Step(const std::string& run, const std::string& task = {}, int64_t attempt = 1) {
    auto step = ledger_->BeginStep(StepStart{run, task, attempt, "before"});
    EXPECT_TRUE(step) << step.error().ToString();
    return step.value_or(0);
  }
  // One value from the raw query layer.
  SqlValue Value(const std::string& sql, std::vector<SqlValue> params = {}) {
    auto result = ledger_->Query(sql, params);
    EXPECT_TRUE(result) << result.error().ToString();
    if (!result || result->rows.empty()) return std::monostate{};
    return result->rows[0][0];
  }
  int64_t Int(const std::string& sql, std::vector<SqlValue> params = {}) {
    SqlValue v = Value(sql, std::move(params));
    return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : -1;
  }
  std::string Text(const std::string& sql, std::vector<SqlValue> params = {}) {
    SqlValue v = Value(sql, std::move(params));
    return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "<not text>";
  }

  TempDir dir_;
  ManualClock clock_;
  std::filesystem::path path_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, IsCreatedInWalModeWithForeignKeysEnforced) {
  EXPECT_TRUE(std::filesystem::exists(path_));
  auto db = Db::Open(path_, false);
  ASSERT_TRUE(db);
  EXPECT_EQ(*(*db)->QueryText("PRAGMA journal_mode"), "wal");  // persistent in the file
  // The ledger's own connection enforces foreign keys: a step of no run fails.
  auto step = ledger_->BeginStep(StepStart{.run_id = "nope"});
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ledger_->RecordToolCall(ToolCallRecord{.step_id = 42, .name = "read"}).ok());
}

TEST_F(LedgerTest, PowerLossModeRecordsTheSameRows) {
  ledger_.reset();
  ledger_ = OpenOrDie(path_, clock_, Durability::kPowerLoss);
  StartRun("r1");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_->RecordToolCall(ToolCallRecord{.step_id = s, .name = "read"}).ok());
  ASSERT_TRUE(ledger_->EndStep(s, StepEnd{.note = "n"}).ok());
  ASSERT_TRUE(ledger_->EndRun("r1", RunEnd{}).ok());
  // A second connection sees everything (the synchronous switch left no transaction open).
  ManualClock other_clock;
  auto other = OpenOrDie(path_, other_clock);
  EXPECT_EQ(other->ListSteps("r1")->at(0).note, "n");
  EXPECT_EQ((*other->GetRun("r1"))->outcome, RunOutcome::kSucceeded);
  EXPECT_TRUE(other->IntegrityCheck()->empty());
}

TEST_F(LedgerTest, OpenWithoutClockIsInvalidArgument) {
  auto ledger = Ledger::Open(LedgerOptions{dir_.path() / "x.db", nullptr});
  ASSERT_FALSE(ledger);
  EXPECT_EQ(ledger.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, RunRoundTripsWithTotalsDerivedFromItsRows) {
  StartRun("r1");
  ASSERT_TRUE(ledger_->UpsertTask(TaskRow{.run_id = "r1", .task_id = "t1"}).ok());
  clock_.now += 10;
  StepId s1 = Step("r1", "t1");
  ASSERT_TRUE(ledger_
                  ->RecordModelCall(ModelCallRecord{.step_id = s1,
                                                    .role = "executor",
                                                    .tokens_in = 100,
                                                    .tokens_out = 20,
                                                    .tokens_cached = 60,
                                                    .cost_usd = 0.5,
                                                    .duration_ms = 300})
                  .ok());
  ASSERT_TRUE(
      ledger_->RecordToolCall(ToolCallRecord{.step_id = s1, .name = "shell", .duration_ms = 40})
          .ok());
  ASSERT_TRUE(ledger_
                  ->RecordGateRun(GateRunRecord{.step_id = s1,
                                                .gate = "test",
                                                .tree_hash = "h1",
                                                .verdict = GateVerdict::kFail,
                                                .duration_ms = 70})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordGateRun(GateRunRecord{.step_id = s1,
                                                .gate = "lint",
                                                .tree_hash = "h1",
                                                .verdict = GateVerdict::kCached,
                                                .duration_ms = 999})
                  .ok());
  ASSERT_TRUE(ledger_->EndStep(s1, StepEnd{.state = StepState::kRolledBack}).ok());
  StepId s2 = Step("r1", "t1", /*attempt=*/2);
  ASSERT_TRUE(ledger_->EndStep(s2, StepEnd{}).ok());
  ASSERT_TRUE(ledger_->RecordApproval(ApprovalRecord{.run_id = "r1", .waited_ms = 5000}).ok());
  ASSERT_TRUE(ledger_
                  ->RecordApproval(ApprovalRecord{
                      .run_id = "r1", .decided_by = DecidedBy::kPolicy, .waited_ms = 7})
                  .ok());
  clock_.now += 1000;
  ASSERT_TRUE(ledger_
                  ->EndRun("r1", RunEnd{.outcome = RunOutcome::kSucceeded,
                                        .exit_code = 0,
                                        .final_checkpoint = "final"})
                  .ok());

  auto run = ledger_->GetRun("r1");
  ASSERT_TRUE(run && run->has_value());
  const RunRow& r = **run;
  EXPECT_EQ(r.kind, "do");
  EXPECT_EQ(r.goal, "goal r1");
  EXPECT_EQ(r.repo, dir_.path().string());
  EXPECT_EQ(r.started_at, 1'700'000'000'000);
  EXPECT_EQ(r.ended_at, 1'700'000'001'010);
  EXPECT_EQ(r.outcome, RunOutcome::kSucceeded);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.base_checkpoint, "base");
  EXPECT_EQ(r.final_checkpoint, "final");
  EXPECT_EQ(r.owner, ProcessIdentity::Current());
  EXPECT_EQ(r.totals.steps, 2);
  EXPECT_EQ(r.totals.retries, 1);
  EXPECT_EQ(r.totals.tokens_in, 100);
  EXPECT_EQ(r.totals.tokens_out, 20);
  EXPECT_EQ(r.totals.tokens_cached, 60);
  EXPECT_DOUBLE_EQ(r.totals.cost_usd, 0.5);
  EXPECT_EQ(r.totals.wall_ms, 1010);
  EXPECT_EQ(r.totals.model_ms, 300);
  EXPECT_EQ(r.totals.tool_ms, 40);
  EXPECT_EQ(r.totals.gate_ms, 70);     // the cache hit cost nothing
  EXPECT_EQ(r.totals.human_ms, 5000);  // the policy's decision is not a person's time
}

TEST_F(LedgerTest, CallerSuppliedTotalsAreStoredAsGiven) {
  StartRun("r1");
  RunTotals totals{.steps = 9, .cost_usd = 1.25, .gate_ms = 33};
  clock_.now += 50;
  ASSERT_TRUE(
      ledger_
          ->EndRun("r1", RunEnd{.outcome = RunOutcome::kFailed, .exit_code = 1, .totals = totals})
          .ok());
  auto run = ledger_->GetRun("r1");
  EXPECT_EQ((*run)->totals.steps, 9);
  EXPECT_DOUBLE_EQ((*run)->totals.cost_usd, 1.25);
  EXPECT_EQ((*run)->totals.gate_ms, 33);
  EXPECT_EQ((*run)->totals.wall_ms, 50);  // filled in when not given
  EXPECT_EQ((*run)->outcome, RunOutcome::kFailed);
}

TEST_F(LedgerTest, RunIdsAreUniqueAndRunsEndOnce) {
  StartRun("r1");
  Status again = ledger_->BeginRun(RunStart{.id = "r1", .kind = "do"});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(ledger_->EndRun("r1", RunEnd{}).ok());
  EXPECT_EQ(ledger_->EndRun("r1", RunEnd{}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->EndRun("nope", RunEnd{}).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->EndRun("r1", RunEnd{.outcome = RunOutcome::kRunning}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, EndingARunInterruptsItsStepsStillRunning) {
  StartRun("r1");
  StepId s = Step("r1");
  clock_.now += 5;
  ASSERT_TRUE(
      ledger_->EndRun("r1", RunEnd{.outcome = RunOutcome::kInterrupted, .exit_code = 130}).ok());
  auto steps = ledger_->ListSteps("r1");
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].id, s);
  EXPECT_EQ((*steps)[0].state, StepState::kInterrupted);
  EXPECT_EQ((*steps)[0].ended_at, clock_.now);
  EXPECT_TRUE(ledger_->IntegrityCheck()->empty());
}

TEST_F(LedgerTest, StepsAreNumberedWithinTheirRunAndRoundTrip) {
  StartRun("a");
  StartRun("b");
  StepId a1 = Step("a");
  StepId b1 = Step("b");
  StepId a2 = Step("a");
  clock_.now += 7;
  ASSERT_TRUE(ledger_
                  ->EndStep(a2, StepEnd{.state = StepState::kDone,
                                        .checkpoint_after = "after",
                                        .lines_changed = 12,
                                        .files_changed = 3,
                                        .note = "edited"})
                  .ok());
  auto steps = ledger_->ListSteps("a");
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].id, a1);
  EXPECT_EQ((*steps)[0].n, 1);
  EXPECT_EQ((*steps)[0].state, StepState::kRunning);
  EXPECT_FALSE((*steps)[0].ended_at.has_value());
  const StepRow& s = (*steps)[1];
  EXPECT_EQ(s.id, a2);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.run_id, "a");
  EXPECT_EQ(s.task_id, "");
  EXPECT_EQ(s.attempt, 1);
  EXPECT_EQ(s.started_at, clock_.now - 7);
  EXPECT_EQ(s.ended_at, clock_.now);
  EXPECT_EQ(s.state, StepState::kDone);
  EXPECT_EQ(s.checkpoint_before, "before");
  EXPECT_EQ(s.checkpoint_after, "after");
  EXPECT_EQ(s.lines_changed, 12);
  EXPECT_EQ(s.files_changed, 3);
  EXPECT_EQ(s.note, "edited");
  EXPECT_EQ(ledger_->ListSteps("b")->at(0).id, b1);
  EXPECT_EQ(ledger_->ListSteps("b")->at(0).n, 1);
}

TEST_F(LedgerTest, StepsEndOnceAndOnlyInRunningRuns) {
  StartRun("r1");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_->EndStep(s, StepEnd{}).ok());
  EXPECT_EQ(ledger_->EndStep(s, StepEnd{}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->EndStep(s + 100, StepEnd{}).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->EndStep(s, StepEnd{.state = StepState::kRunning}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(ledger_->EndRun("r1", RunEnd{}).ok());
  auto late = ledger_->BeginStep(StepStart{.run_id = "r1"});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LedgerTest, TaskUpsertReplacesFieldsAndStampsStartAndEnd) {
  StartRun("r1");
  TaskRow task{.run_id = "r1", .task_id = "t1", .title = "Add flag", .tier = "executor"};
  ASSERT_TRUE(ledger_->UpsertTask(task).ok());
  clock_.now += 10;
  task.state = TaskState::kRunning;
  task.attempts = 1;
  ASSERT_TRUE(ledger_->UpsertTask(task).ok());
  clock_.now += 10;
  task.attempts = 2;  // still running: started_at keeps the first stamp
  ASSERT_TRUE(ledger_->UpsertTask(task).ok());
  clock_.now += 10;
  task.state = TaskState::kDone;
  task.risk = Risk::kIrreversible;
  task.outcome_detail = "gates passed";
  ASSERT_TRUE(ledger_->UpsertTask(task).ok());
  auto tasks = ledger_->ListTasks("r1");
  ASSERT_EQ(tasks->size(), 1u);
  const TaskRow& t = (*tasks)[0];
  EXPECT_EQ(t.title, "Add flag");
  EXPECT_EQ(t.tier, "executor");
  EXPECT_EQ(t.risk, Risk::kIrreversible);
  EXPECT_EQ(t.state, TaskState::kDone);
  EXPECT_EQ(t.attempts, 2);
  EXPECT_EQ(t.started_at, clock_.now - 20);
  EXPECT_EQ(t.ended_at, clock_.now);
  EXPECT_EQ(t.outcome_detail, "gates passed");
  // Back to waiting: no longer ended.
  task.state = TaskState::kWaiting;
  ASSERT_TRUE(ledger_->UpsertTask(task).ok());
  EXPECT_FALSE(ledger_->ListTasks("r1")->at(0).ended_at.has_value());
  EXPECT_EQ(ledger_->ListTasks("r1")->at(0).state, TaskState::kWaiting);
}

TEST_F(LedgerTest, ModelCallRoundTripsTakingItsRunFromTheStep) {
  StartRun("r1");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_
                  ->RecordModelCall(ModelCallRecord{.step_id = s,
                                                    .role = "executor",
                                                    .tier = "fast",
                                                    .provider = "cerebras",
                                                    .model = "qwen",
                                                    .tokens_in = 1200,
                                                    .tokens_out = 600,
                                                    .tokens_cached = 1000,
                                                    .cache_write = 200,
                                                    .cost_usd = 0.01,
                                                    .ttft_ms = 100,
                                                    .duration_ms = 600,
                                                    .retries = 1,
                                                    .error_kind = "overloaded"})
                  .ok());
  auto row = ledger_->Query(
      "SELECT run_id, step_id, role, tier, provider, model, tokens_in, tokens_out,"
      " tokens_cached, cache_write, cost_usd, ttft_ms, duration_ms, tokens_per_s, retries,"
      " error_kind, at FROM model_calls");
  ASSERT_TRUE(row);
  ASSERT_EQ(row->rows.size(), 1u);
  const auto& v = row->rows[0];
  EXPECT_EQ(std::get<std::string>(v[0]), "r1");
  EXPECT_EQ(std::get<int64_t>(v[1]), s);
  EXPECT_EQ(std::get<std::string>(v[2]), "executor");
  EXPECT_EQ(std::get<std::string>(v[3]), "fast");
  EXPECT_EQ(std::get<std::string>(v[4]), "cerebras");
  EXPECT_EQ(std::get<std::string>(v[5]), "qwen");
  EXPECT_EQ(std::get<int64_t>(v[6]), 1200);
  EXPECT_EQ(std::get<int64_t>(v[7]), 600);
  EXPECT_EQ(std::get<int64_t>(v[8]), 1000);
  EXPECT_EQ(std::get<int64_t>(v[9]), 200);
  EXPECT_DOUBLE_EQ(std::get<double>(v[10]), 0.01);
  EXPECT_EQ(std::get<int64_t>(v[11]), 100);
  EXPECT_EQ(std::get<int64_t>(v[12]), 600);
  // Derived: 599 tokens after the first over 500 ms from first to last.
  EXPECT_DOUBLE_EQ(std::get<double>(v[13]), 1198.0);
  EXPECT_EQ(std::get<int64_t>(v[14]), 1);
  EXPECT_EQ(std::get<std::string>(v[15]), "overloaded");
  EXPECT_EQ(std::get<int64_t>(v[16]), clock_.now);
}

TEST_F(LedgerTest, PlannerCallOutsideAnyStepBelongsToItsRun) {
  StartRun("p", "plan");
  ASSERT_TRUE(ledger_->RecordModelCall(ModelCallRecord{.run_id = "p", .role = "planner"}).ok());
  EXPECT_EQ(Int("SELECT COUNT(*) FROM model_calls WHERE run_id = 'p' AND step_id IS NULL"), 1);
  EXPECT_EQ(Value("SELECT error_kind FROM model_calls"), SqlValue(std::monostate{}));
  EXPECT_EQ(ledger_->RecordModelCall(ModelCallRecord{.role = "planner"}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, ToolAndGateAndRollbackRowsRoundTrip) {
  StartRun("r1");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_
                  ->RecordToolCall(ToolCallRecord{.step_id = s,
                                                  .name = "edit",
                                                  .args_summary = "src/a.cc",
                                                  .outcome = ToolOutcome::kRefused,
                                                  .duration_ms = 3,
                                                  .detail = "outside scope"})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordGateRun(GateRunRecord{.step_id = s,
                                                .gate = "build",
                                                .command = "cmake --build b",
                                                .tree_hash = "abc",
                                                .verdict = GateVerdict::kFail,
                                                .duration_ms = 900,
                                                .exit_code = 2,
                                                .output_excerpt = "error: x"})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordRollback(RollbackRecord{
                      .step_id = s, .reason = "gate build failed", .checkpoint = "cp1"})
                  .ok());
  auto tool = ledger_->Query(
      "SELECT step_id, name, args_summary, outcome, duration_ms, detail, at FROM tool_calls");
  ASSERT_EQ(tool->rows.size(), 1u);
  EXPECT_EQ(tool->rows[0], (std::vector<SqlValue>{s, "edit", "src/a.cc", "refused", int64_t{3},
                                                  "outside scope", clock_.now}));
  auto gate = ledger_->Query(
      "SELECT run_id, step_id, gate, command, tree_hash, verdict, duration_ms, exit_code,"
      " output_excerpt FROM gate_runs");
  ASSERT_EQ(gate->rows.size(), 1u);
  EXPECT_EQ(gate->rows[0], (std::vector<SqlValue>{"r1", s, "build", "cmake --build b", "abc",
                                                  "fail", int64_t{900}, int64_t{2}, "error: x"}));
  auto rollback = ledger_->Query("SELECT step_id, reason, checkpoint FROM rollbacks");
  EXPECT_EQ(rollback->rows.at(0), (std::vector<SqlValue>{s, "gate build failed", "cp1"}));
}

TEST_F(LedgerTest, ApprovalAndEscalationRowsRoundTrip) {
  StartRun("r1", "run");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_
                  ->RecordApproval(ApprovalRecord{.run_id = "r1",
                                                  .task_id = "t2",
                                                  .step_id = s,
                                                  .what = "git push",
                                                  .decision = ApprovalDecision::kDenied,
                                                  .decided_by = DecidedBy::kPerson,
                                                  .waited_ms = 42000,
                                                  .reason = "not today"})
                  .ok());
  ASSERT_TRUE(ledger_
                  ->RecordEscalation(EscalationRecord{.run_id = "r1",
                                                      .task_id = "t2",
                                                      .from_tier = "executor",
                                                      .to_tier = "planner",
                                                      .action = EscalationAction::kSplit,
                                                      .reason = "retry budget spent"})
                  .ok());
  auto approval = ledger_->Query(
      "SELECT run_id, task_id, step_id, what, decision, decided_by, waited_ms, reason, at"
      " FROM approvals");
  EXPECT_EQ(approval->rows.at(0),
            (std::vector<SqlValue>{"r1", "t2", s, "git push", "denied", "person", int64_t{42000},
                                   "not today", clock_.now}));
  auto escalation = ledger_->Query(
      "SELECT run_id, task_id, from_tier, to_tier, action, reason, at FROM escalations");
  EXPECT_EQ(escalation->rows.at(0),
            (std::vector<SqlValue>{"r1", "t2", "executor", "planner", "split", "retry budget spent",
                                   clock_.now}));
}

TEST_F(LedgerTest, SteerNoteIsPendingUntilDeliveredOnce) {
  StartRun("r1");
  auto first = ledger_->AddSteerNote("r1", "only change X", "cli");
  clock_.now += 1;
  auto second = ledger_->AddSteerNote("r1", "don't touch the types", "dashboard");
  ASSERT_TRUE(first && second);
  auto pending = ledger_->PendingSteerNotes("r1");
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].note, "only change X");
  EXPECT_EQ((*pending)[0].source, "cli");
  EXPECT_EQ((*pending)[1].at, clock_.now);
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_->MarkSteerDelivered(*first, s).ok());
  EXPECT_EQ(ledger_->MarkSteerDelivered(*first, s).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->MarkSteerDelivered(*second + 10, s).code(), StatusCode::kNotFound);
  pending = ledger_->PendingSteerNotes("r1");
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, *second);
  EXPECT_EQ(Int("SELECT delivered_step_id FROM steer_notes WHERE id = ?1", {*first}), s);
  EXPECT_FALSE(ledger_->AddSteerNote("no-such-run", "x", "cli"));
}

TEST_F(LedgerTest, RegisteredSecretIsNeverWrittenToTheFile) {
  const std::string secret = "ledger-test-secret-9f8e7d6c5b4a";
  Redactor::Register(secret);
  StartRun("r1");
  StepId s = Step("r1");
  ASSERT_TRUE(ledger_
                  ->RecordToolCall(ToolCallRecord{.step_id = s,
                                                  .name = "shell",
                                                  .args_summary = "curl -H 'key: " + secret + "'",
                                                  .outcome = ToolOutcome::kError,
                                                  .detail = "401 for key " + secret})
                  .ok());
  ASSERT_TRUE(
      ledger_
          ->RecordGateRun(GateRunRecord{
              .step_id = s, .gate = "g", .tree_hash = "h", .output_excerpt = "env: KEY=" + secret})
          .ok());
  ASSERT_TRUE(ledger_->EndStep(s, StepEnd{.note = "used " + secret}).ok());
  EXPECT_EQ(Text("SELECT detail FROM tool_calls"), "401 for key [REDACTED]");
  EXPECT_EQ(Text("SELECT args_summary FROM tool_calls"), "curl -H 'key: [REDACTED]'");
  EXPECT_EQ(Text("SELECT output_excerpt FROM gate_runs"), "env: KEY=[REDACTED]");
  ledger_.reset();  // close: checkpoints the WAL into the main file
  for (const char* suffix : {"", "-wal"}) {
    auto file = path_.string() + suffix;
    if (!std::filesystem::exists(file)) continue;
    EXPECT_EQ(ReadFile(file).find(secret), std::string::npos) << file;
  }
}

TEST_F(LedgerTest, LongTextIsTruncatedWithoutSplittingACharacter) {
  StartRun("r1");
  StepId s = Step("r1");
  std::string args;
  while (args.size() < 2000) args += "é";  // two bytes each
  ASSERT_TRUE(
      ledger_->RecordToolCall(ToolCallRecord{.step_id = s, .name = "read", .args_summary = args})
          .ok());
  std::string stored = Text("SELECT args_summary FROM tool_calls");
  EXPECT_LE(stored.size(), 512u);
  EXPECT_GT(stored.size(), 400u);
  EXPECT_EQ(stored.substr(stored.size() - 14), "\u2026[truncated]");
  std::string body = stored.substr(0, stored.size() - 14);
  EXPECT_EQ(body.size() % 2, 0u);
  EXPECT_EQ(body.find_first_not_of("é"), std::string::npos);
}

TEST_F(LedgerTest, TwoConnectionsWriteConcurrentlyWithoutLockErrors) {
  ManualClock other_clock;
  auto other = OpenOrDie(path_, other_clock);
  StartRun("a");
  ASSERT_TRUE(other->BeginRun(RunStart{.id = "b", .kind = "do"}).ok());
  auto work = [](Ledger* ledger, const std::string& run, int* failures) {
    for (int i = 0; i < 150; ++i) {
      auto step = ledger->BeginStep(StepStart{.run_id = run});
      if (!step) {
        ++*failures;
        ADD_FAILURE() << step.error().ToString();
        continue;
      }
      *failures += !ledger->RecordToolCall(ToolCallRecord{.step_id = *step, .name = "t"}).ok();
      *failures += !ledger->EndStep(*step, StepEnd{}).ok();
    }
  };
  int failures_a = 0, failures_b = 0;
  std::thread ta(work, ledger_.get(), "a", &failures_a);
  std::thread tb(work, other.get(), "b", &failures_b);
  ta.join();
  tb.join();
  EXPECT_EQ(failures_a, 0);
  EXPECT_EQ(failures_b, 0);
  EXPECT_EQ(Int("SELECT COUNT(*) FROM steps WHERE state = 'done'"), 300);
  EXPECT_EQ(Int("SELECT COUNT(*) FROM tool_calls"), 300);
  EXPECT_EQ(Int("SELECT MAX(n) FROM steps WHERE run_id = 'b'"), 150);
}

TEST_F(LedgerTest, TwoProcessesWriteConcurrentlyWithoutLockErrors) {
  StartRun("parent");
  pid_t pid = fork();
  if (pid == 0) {
    // The child opens its own connection, as a second tandem process would.
    ManualClock child_clock;
    auto opened = Ledger::Open(LedgerOptions{path_, child_clock.fn()});
    if (!opened) _exit(2);
    auto& child = *opened;
    if (!child->BeginRun(RunStart{.id = "child", .kind = "do"}).ok()) _exit(3);
    for (int i = 0; i < 100; ++i) {
      auto step = child->BeginStep(StepStart{.run_id = "child"});
      if (!step || !child->EndStep(*step, StepEnd{}).ok()) _exit(4);
    }
    _exit(0);
  }
  int failures = 0;
  for (int i = 0; i < 100; ++i) {
    StepId s = Step("parent");
    failures += !ledger_->EndStep(s, StepEnd{}).ok();
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Int("SELECT COUNT(*) FROM steps WHERE state = 'done'"), 200);
}

TEST_F(LedgerTest, EndedStepSurvivesKill9OfTheWriter) {
  pid_t pid = fork();
  if (pid == 0) {
    ManualClock child_clock;
    auto opened = Ledger::Open(LedgerOptions{path_, child_clock.fn()});
    if (!opened) _exit(2);
    auto& child = *opened;
    if (!child->BeginRun(RunStart{.id = "killed", .kind = "do"}).ok()) _exit(3);
    auto done = child->BeginStep(StepStart{.run_id = "killed"});
    if (!done || !child->EndStep(*done, StepEnd{.note = "kept"}).ok()) _exit(4);
    if (!child->BeginStep(StepStart{.run_id = "killed"})) _exit(5);
    raise(SIGKILL);  // no destructor, no close, no checkpoint
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto steps = ledger_->ListSteps("killed");
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].note, "kept");
  EXPECT_EQ((*steps)[1].state, StepState::kRunning);
  auto interrupted = ledger_->FindInterruptedSteps("killed");
  ASSERT_TRUE(interrupted);
  ASSERT_EQ(interrupted->size(), 1u);
  EXPECT_EQ((*interrupted)[0].n, 2);
}

TEST(LedgerOpen, CorruptFileGetsAClearErrorAndIsNotOverwritten) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "ledger.db";
  std::string garbage = "this is not a database, it is a note someone saved here\n";
  for (int i = 0; i < 200; ++i) garbage += "line " + std::to_string(i) + "\n";
  {
    std::ofstream out(path, std::ios::binary);
    out << garbage;
  }
  auto ledger = Ledger::Open(LedgerOptions{path, clock.fn()});
  ASSERT_FALSE(ledger);
  EXPECT_EQ(ledger.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ledger.error().message().find("not a SQLite database"), std::string::npos)
      << ledger.error().message();
  EXPECT_NE(ledger.error().message().find(path.string()), std::string::npos);
  EXPECT_EQ(ReadFile(path), garbage);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
}

TEST(LedgerMoveLegacy, CarriesCommitsStillInTheWalAndRemovesTheOldFiles) {
  TempDir dir;
  ManualClock clock;
  auto from = dir.path() / "work" / ".tandem" / "ledger.db";
  auto to = dir.path() / "git" / "tandem" / "ledger.db";
  auto old = OpenOrDie(from, clock);
  ASSERT_TRUE(old->BeginRun(RunStart{.id = "r1", .kind = "do", .repo = "/repo"}).ok());
  ASSERT_TRUE(std::filesystem::exists(from.string() + "-wal"));  // open: the row is in the WAL

  ASSERT_TRUE(Ledger::MoveLegacy(from, to).ok());
  old.reset();

  EXPECT_FALSE(std::filesystem::exists(from));
  EXPECT_FALSE(std::filesystem::exists(from.string() + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(from.parent_path())) << "an emptied .tandem stays";
  auto moved = OpenOrDie(to, clock);
  auto run = moved->GetRun("r1");
  ASSERT_TRUE(run && run->has_value());
  EXPECT_EQ((*run)->repo, "/repo");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(to.parent_path()),
                          std::filesystem::directory_iterator()),
            3)  // ledger.db, -wal, -shm: no temporary file left
      << "leftovers beside " << to;
}

TEST(LedgerMoveLegacy, KeepsTheLedgerAnotherProcessMovedFirst) {
  TempDir dir;
  ManualClock clock;
  auto from = dir.path() / ".tandem" / "ledger.db";
  auto to = dir.path() / "git" / "ledger.db";
  {
    auto old = OpenOrDie(from, clock);
    ASSERT_TRUE(old->BeginRun(RunStart{.id = "old", .kind = "do", .repo = "/repo"}).ok());
    auto first = OpenOrDie(to, clock);
    ASSERT_TRUE(first->BeginRun(RunStart{.id = "first", .kind = "do", .repo = "/repo"}).ok());
  }

  ASSERT_TRUE(Ledger::MoveLegacy(from, to).ok());

  auto kept = OpenOrDie(to, clock);
  EXPECT_TRUE(kept->GetRun("first")->has_value());
  EXPECT_FALSE(kept->GetRun("old")->has_value());
}

TEST(LedgerMoveLegacy, LeavesAFileThatIsNotADatabaseAsItWas) {
  TempDir dir;
  auto from = dir.path() / ".tandem" / "ledger.db";
  auto to = dir.path() / "git" / "ledger.db";
  std::filesystem::create_directories(from.parent_path());
  std::ofstream(from, std::ios::binary) << std::string(4096, 'x');

  Status moved = Ledger::MoveLegacy(from, to);

  EXPECT_EQ(moved.code(), StatusCode::kFailedPrecondition) << moved.ToString();
  EXPECT_NE(moved.message().find(from.string()), std::string::npos) << moved.ToString();
  EXPECT_EQ(ReadFile(from), std::string(4096, 'x'));
  EXPECT_FALSE(std::filesystem::exists(to));
}

}  // namespace
}  // namespace tandem::ledger
