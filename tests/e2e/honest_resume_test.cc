// Resume and faults, told honestly: an interrupted task runs again from the
// checkpoint it started from (nothing applied twice), a malformed tool call
// is a tool error the model corrects (not the end of the run), a ledger or
// rollback failure stops the run instead of being dropped, checkpoints are
// published, and a bad plan.md, an empty task or a scope outside the
// repository are refused before any model call.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "tandem/ledger/sqlite.h"
#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class HonestResumeTest : public E2eTest {
 protected:
  static std::function<bool(const json&)> StepStarted(const std::string& task, int step) {
    return [task, step](const json& e) {
      return e.value("type", "") == "step_started" && e.value("task", "") == task &&
             e.value("step", 0) == step;
    };
  }
  static bool HasEventText(const TandemRun& run, const std::string& text) {
    return run.out.find(text) != std::string::npos;
  }
};

// T1's step 1 appends a line; its step 2 waits on a stalled model stream,
// where the process is stopped (kill -9 or Ctrl-C); `tandem resume` runs T1
// again. Without undoing step 1 first, the line would be appended twice.
class InterruptedTaskTest : public HonestResumeTest, public ::testing::WithParamInterface<int> {};

TEST_P(InterruptedTaskTest, ResumeUndoesTheTasksFinishedStepsSoNothingIsAppliedTwice) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: append\n\n" +
                           TaskBlock("T1", "Append", "Append a line to log.txt [app]") +
                           TaskBlock("T2", "Two", "Write two.txt [two]", "", "T1"));
  CommitAll("plan");
  json stalled = TaskTurn("[app]", 1, {Call("write_file", {{"path", "note.txt"}, {"content", "n\n"}})});
  stalled["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 0}, {"stall_ms", 30000}}});
  std::vector<json> turns = {
      TaskTurn("[app]", 0, {Call("run_command", {{"command", "echo appended >> log.txt"}})}),
      stalled,
      TaskTurn("[app]", 2, {Call("finish", {{"summary", "appended"}})})};
  for (auto& t : WriteThenFinish("[two]", "two.txt", "2\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemProcess process = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(process, StepStarted("T1", 2)));
  ASSERT_EQ(ReadFile("log.txt"), "appended\n");  // step 1 finished and was kept
  ::kill(process.pid, GetParam());
  TandemRun stopped = WaitTandem(process);
  if (GetParam() == SIGKILL) {
    ASSERT_EQ(stopped.term_signal, SIGKILL);
  } else {
    ASSERT_EQ(stopped.exit_code, 130) << stopped.Describe();
  }
  std::string run_id = stopped.RunId();
  ASSERT_FALSE(run_id.empty());

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_EQ(resumed.RunId(), run_id);
  EXPECT_EQ(ReadFile("log.txt"), "appended\n") << resumed.Describe();
  EXPECT_EQ(ReadFile("note.txt"), "n\n");
  EXPECT_EQ(ReadFile("two.txt"), "2\n");
  EXPECT_TRUE(resumed.HasNotice("task T1 was interrupted: undid its 1 finished step(s)"))
      << resumed.Describe();
  // T1 ran again from its first step; T2 once.
  auto requests = Requests();
  EXPECT_EQ(CountRequests(requests, "[app]", 0), 2);
  EXPECT_EQ(CountRequests(requests, "[two]", 0), 1);
  EXPECT_EQ(LedgerValue("SELECT group_concat(task_id || ':' || state, ' ') FROM "
                        "(SELECT * FROM tasks ORDER BY task_id)"),
            "T1:done T2:done");
  auto ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  auto problems = ledger->IntegrityCheck();
  ASSERT_TRUE(problems.has_value()) << problems.error().ToString();
  EXPECT_TRUE(problems->empty()) << (problems->empty() ? "" : problems->front());
}

INSTANTIATE_TEST_SUITE_P(KillNineAndCtrlC, InterruptedTaskTest, ::testing::Values(SIGKILL, SIGINT),
                         [](const auto& info) { return info.param == SIGKILL ? "KillNine" : "CtrlC"; });

// As above, but a person appends to log.txt between the kill and the
// resume: undoing T1's step would overwrite that edit, so the resume is
// refused naming the file, and nothing is lost.
TEST_F(HonestResumeTest, ResumeRefusesToUndoATaskWhoseFilesAPersonEditedAfterTheStop) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: append\n\n" +
                           TaskBlock("T1", "Append", "Append a line to log.txt [app]"));
  CommitAll("plan");
  json stalled = TaskTurn("[app]", 1, {Call("write_file", {{"path", "note.txt"}, {"content", "n\n"}})});
  stalled["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 0}, {"stall_ms", 30000}}});
  StartServer(Script(
      {TaskTurn("[app]", 0, {Call("run_command", {{"command", "echo appended >> log.txt"}})}),
       stalled}));

  TandemProcess process = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(process, StepStarted("T1", 2)));
  ASSERT_EQ(ReadFile("log.txt"), "appended\n");
  ::kill(process.pid, SIGKILL);
  TandemRun stopped = WaitTandem(process);
  ASSERT_EQ(stopped.term_signal, SIGKILL);
  WriteFile("log.txt", "appended\nby a person\n");

  TandemRun resumed = RunTandem({"resume", "--json"});
  EXPECT_NE(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_EQ(ReadFile("log.txt"), "appended\nby a person\n") << resumed.Describe();
  EXPECT_NE((resumed.out + resumed.err).find("changed since the run stopped: log.txt"),
            std::string::npos)
      << resumed.Describe();
}

TEST_F(HonestResumeTest, AMalformedToolCallIsAToolErrorTheModelCorrectsAndTheRunGoesOn) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: two\n\n" + TaskBlock("T1", "One", "Write one.txt [one]") +
                           TaskBlock("T2", "Two", "Write two.txt [two]", "", "T1"));
  CommitAll("plan");
  json truncated = TaskTurn("[one]", 0, {Call("write_file", {{"path", "one.txt"}, {"content", "1\n"}})});
  truncated["faults"] = json::array({{{"kind", "bad_tool_json"}}});
  std::vector<json> turns = {
      truncated,
      TaskTurn("[one]", 1, {Call("write_file", {{"path", "one.txt"}, {"content", "1\n"}})}),
      TaskTurn("[one]", 2, {Call("finish", {{"summary", "wrote one.txt"}})})};
  for (auto& t : WriteThenFinish("[two]", "two.txt", "2\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("one.txt"), "1\n");
  EXPECT_EQ(ReadFile("two.txt"), "2\n");
  EXPECT_TRUE(run.HasNotice("a write_file call was malformed")) << run.Describe();
  // The model read why its call did not run, as the call's tool result.
  bool told = false;
  for (const json& r : Requests()) {
    if (CountRequests({r}, "[one]", 1) == 1) {
      told = r["body"].dump().find("arguments are not valid JSON") != std::string::npos;
    }
  }
  EXPECT_TRUE(told);
  EXPECT_EQ(run.Finished().value("retries", -1), 1);
}

TEST_F(HonestResumeTest, MalformedToolCallsSpendTheRetryBudgetAndFailTheTaskNotTheProvider) {
  MakePassingRepo();
  json truncated = Turn(kAnyTurn, {Call("write_file", {{"path", "one.txt"}, {"content", "1\n"}})});
  truncated["faults"] = json::array({{{"kind", "bad_tool_json"}, {"times", 100}}});
  StartServer(Script({truncated}), "[limits]\nstep_retries = 2\n");

  TandemRun run = Do("write one.txt");
  EXPECT_EQ(run.exit_code, 1) << run.Describe();  // failed, not a provider error (3)
  EXPECT_EQ(run.Finished().value("outcome", ""), "failed");
  EXPECT_NE(run.Finished().value("summary", "").find("retry budget spent (2 retries)"),
            std::string::npos)
      << run.Describe();
  EXPECT_EQ(Requests().size(), 3u);
  EXPECT_FALSE(Exists("one.txt"));
}

TEST_F(HonestResumeTest, ALedgerThatCannotRecordAStepStopsTheRunBeforeTheStepRuns) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "x.txt"}, {"content", "x\n"}})}),
                      Finish(1)}));
  ASSERT_NE(OpenLedger(), nullptr);  // creates the ledger
  auto db = ledger::Db::Open(LedgerPath(), false);
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TRIGGER no_steps BEFORE INSERT ON steps "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
                  .ok());
  db->reset();

  TandemRun run = Do("write x.txt");
  EXPECT_EQ(run.exit_code, 4) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "error");
  EXPECT_FALSE(Exists("x.txt"));  // nothing ran that a crash could not roll back
  EXPECT_TRUE(run.HasNotice("cannot record the step before it runs")) << run.Describe();
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(HonestResumeTest, AFailedRollbackOfAnInterruptedStepIsReportedAndLeftForTheNextCommand) {
  MakePassingRepo();
  // The command breaks the object store the rollback needs, then hangs.
  std::string command =
      "rm -rf .git/objects && touch .git/objects && touch started.marker && sleep 30";
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "kept.txt"}, {"content", "k\n"}})}),
                      Turn(1, {Call("run_command", {{"command", command}})}), Finish(2)}),
              "[sandbox]\nmode = \"none\"\n[guardrails]\ncommand_policy = \"allow-all\"\n");

  TandemProcess process = SpawnTandem({"do", "--json", "break things"});
  ASSERT_TRUE(WaitForEvent(process, [](const json& e) {
    return e.value("type", "") == "tool_started" && e.value("name", "") == "run_command";
  }));
  ASSERT_TRUE(WaitForFile("started.marker"));
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);

  EXPECT_EQ(run.exit_code, 4) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "error");
  EXPECT_TRUE(run.HasNotice("rolling back the interrupted step 2 failed")) << run.Describe();
  // Left as a crash leaves it, so the next tandem command restores the step.
  EXPECT_EQ(LedgerValue("SELECT state FROM steps WHERE n = 2"), "running");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "running");
  EXPECT_EQ(run.out.find("was rolled back"), std::string::npos);
}

TEST_F(HonestResumeTest, EveryEditingStepPublishesItsCheckpoint) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}}),
                               Call("write_file", {{"path", "b.txt"}, {"content", "b\n"}})}),
                      Turn(1, {Call("run_command", {{"command", "echo c > c.txt"}})}),
                      Finish(2)}));
  TandemRun run = Do("write files");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::vector<json> taken = run.Events("checkpoint_taken");
  ASSERT_EQ(taken.size(), 3u) << run.Describe();
  EXPECT_EQ(taken[0].value("label", ""), "step 1");
  EXPECT_EQ(taken[0].value("files_changed", -1), 2);
  EXPECT_EQ(taken[1].value("label", ""), "step 2");
  EXPECT_EQ(taken[1].value("files_changed", -1), 1);
  EXPECT_EQ(taken[2].value("label", ""), "final scan");  // the task ran a command
  EXPECT_EQ(taken[2].value("files_changed", -1), 0);
  for (const json& e : taken) {
    std::string id = e.value("checkpoint", "");
    ASSERT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{40}"))) << id;
    EXPECT_EQ(Git("cat-file -t " + id), "commit\n");
    EXPECT_TRUE(e.contains("duration_ms"));
  }
}

TEST_F(HonestResumeTest, AGateThatVerifyMdLacksIsAPlanErrorWithItsLineBeforeAnyModelCall) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: x\n\n" +
                           TaskBlock("T1", "One", "Write one.txt", "  - accept: gates check, lint\n"));
  CommitAll("plan");
  StartServer(Script({Finish(kAnyTurn)}));
  TandemRun run = RunTandem({"run"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("plan.md: line 5: task T1 names gate 'lint' in its acceptance, which "
                         "verify.md does not define (it defines: check)"),
            std::string::npos)
      << run.Describe();
  EXPECT_TRUE(Requests().empty());
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM escalations"), "0");
}

TEST_F(HonestResumeTest, APlanWithoutAReadableTaskIsRefusedNamingTheProblem) {
  MakePassingRepo();
  StartServer(Script({Finish(kAnyTurn)}));
  WriteFile("plan.md", "");
  TandemRun empty = RunTandem({"run"});
  EXPECT_EQ(empty.exit_code, 2) << empty.Describe();
  EXPECT_NE(empty.err.find("the file is empty"), std::string::npos) << empty.Describe();
  WriteFile("plan.md", "# Plan: x\n\n-[ ] T1: typo\n  - do: x\n");
  TandemRun typo = RunTandem({"run"});
  EXPECT_EQ(typo.exit_code, 2) << typo.Describe();
  EXPECT_NE(typo.err.find("line 3: expected a task line"), std::string::npos) << typo.Describe();
  EXPECT_TRUE(Requests().empty());
}

TEST_F(HonestResumeTest, APlanWithAByteOrderMarkBeforeItsFirstTaskRunsThatTask) {
  MakePassingRepo();
  WriteFile("plan.md", "\xEF\xBB\xBF" + TaskBlock("T1", "One", "Write one.txt [one]"));
  CommitAll("plan");
  StartServer(Script(WriteThenFinish("[one]", "one.txt", "1\n")));
  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("one.txt"), "1\n");
  EXPECT_TRUE(ReadFile("plan.md").starts_with("\xEF\xBB\xBF- [x] T1: One\n")) << ReadFile("plan.md");
}

TEST_F(HonestResumeTest, AnEmptyTaskOrAScopeOutsideTheRepositoryIsRefusedBeforeAnyModelCall) {
  MakePassingRepo();
  StartServer(Script({Finish(kAnyTurn)}));
  for (const char* task : {"", "  \t "}) {
    TandemRun run = Do(task);
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_NE(run.err.find("the task is empty"), std::string::npos) << run.Describe();
  }
  for (const char* scope : {"../**", "/etc/**", ""}) {
    TandemRun run = Do("fix it", {"--scope", scope});
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_NE(run.err.find(std::string("--scope '") + scope + "'"), std::string::npos)
        << run.Describe();
  }
  EXPECT_TRUE(Requests().empty());
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM runs"), "0");
}

}  // namespace
}  // namespace tandem::e2e
