// tandem resume after kill -9 in the middle of a plan run: the interrupted
// step is rolled back to its checkpoint and its task retried in the same
// run; no finished task is done twice and the ledger stays consistent.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class OrchestratorResumeTest : public E2eTest {};

TEST_F(OrchestratorResumeTest, ResumeAfterKillNineFinishesThePlanWithNoTaskDoneTwice) {
  MakePassingRepo();
  // The gate hangs once, on T2's first edit: tandem is killed there.
  std::string once = OutsidePath("once");
  WriteVerifyMd({{"check", "sh check.sh"},
                 {"hang", "if [ -f two.txt ] && [ ! -f " + once + " ]; then touch " + once +
                              "; sleep 30; fi"}});
  WriteFile("plan.md", "# Plan: three\n\n" + TaskBlock("T1", "One", "Write one.txt [one]") +
                           TaskBlock("T2", "Two", "Write two.txt [two]", "", "T1") +
                           TaskBlock("T3", "Three", "Write three.txt [three]", "", "T2"));
  CommitAll("plan");
  std::vector<json> turns;
  for (auto& t : WriteThenFinish("[one]", "one.txt", "1\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[two]", "two.txt", "2\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[three]", "three.txt", "3\n")) turns.push_back(t);
  // The gate's marker lies outside the workspace: the gate runs outside the sandbox.
  StartServer(Script(turns), "[sandbox]\nmode = \"none\"\n");

  TandemProcess process = SpawnTandem({"run", "--json"});
  for (int i = 0; i < 2000 && !std::filesystem::exists(once); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(once));
  ::kill(process.pid, SIGKILL);
  TandemRun killed = WaitTandem(process);
  ASSERT_EQ(killed.term_signal, SIGKILL);
  std::string run_id = killed.RunId();
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(Exists("two.txt"));  // the step was half done
  ASSERT_NE(ReadFile("plan.md").find("- [~] T2"), std::string::npos) << ReadFile("plan.md");

  TandemRun status = RunTandem({"status"});
  EXPECT_NE(status.out.find("running: T2"), std::string::npos) << status.out;

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_EQ(resumed.RunId(), run_id);  // the same run goes on
  EXPECT_TRUE(resumed.HasNotice("rolled back interrupted step")) << resumed.Describe();
  EXPECT_EQ(ReadFile("one.txt"), "1\n");
  EXPECT_EQ(ReadFile("two.txt"), "2\n");
  EXPECT_EQ(ReadFile("three.txt"), "3\n");
  std::string plan = ReadFile("plan.md");
  for (const char* line : {"- [x] T1: One", "- [x] T2: Two", "- [x] T3: Three"}) {
    EXPECT_NE(plan.find(line), std::string::npos) << plan;
  }
  // T1 was not done again: its first request was sent once, in the first process.
  auto requests = Requests();
  EXPECT_EQ(CountRequests(requests, "[one]", 0), 1);
  EXPECT_EQ(CountRequests(requests, "[two]", 0), 2);  // retried from its checkpoint
  EXPECT_EQ(CountRequests(requests, "[three]", 0), 1);
  for (const json& e : resumed.Events("task_started")) EXPECT_NE(e.value("task", ""), "T1");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE id = '" + run_id + "'"), "succeeded");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'"), "1");
  EXPECT_EQ(LedgerValue("SELECT group_concat(task_id || ':' || state, ' ') FROM "
                        "(SELECT * FROM tasks ORDER BY task_id)"),
            "T1:done T2:done T3:done");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'interrupted'"), "1");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'"), "0");
  auto ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  auto problems = ledger->IntegrityCheck();
  ASSERT_TRUE(problems.has_value()) << problems.error().ToString();
  EXPECT_TRUE(problems->empty()) << (problems->empty() ? "" : problems->front());

  TandemRun nothing = RunTandem({"resume"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.Describe();
}

// A plan whose T1 model drops the 'nobad' gate from verify.md (and
// finishes), and whose T2 model writes what 'nobad' refuses.
class WeakenedGatesTest : public OrchestratorResumeTest {
 protected:
  void MakeAPlanWhoseFirstTaskWeakensTheGates() {
    MakePassingRepo();
    WriteVerifyMd({{"check", "sh check.sh"}, {"nobad", "! grep -rq bad --include=*.txt ."}});
    WriteFile("plan.md", "# Plan: two\n\n" + TaskBlock("T1", "One", "Write one.txt [one]") +
                             TaskBlock("T2", "Two", "Write two.txt [two]", "", "T1"));
    CommitAll("plan");
    StartServer(Script({
        TaskTurn("[one]", 0,
                 {Call("write_file", {{"path", "verify.md"}, {"content", kWeakened}}),
                  Call("write_file", {{"path", "one.txt"}, {"content", "1\n"}})}),
        TaskTurn("[one]", 1, {Call("finish", {{"summary", "wrote one.txt"}})}),
        TaskTurn("[two]", kAnyTurn,
                 {Call("write_file", {{"path", "two.txt"}, {"content", "bad\n"}})}),
    }), "\n[limits]\nstep_retries = 0\n");
  }
  // 'nobad' still judged T2, which therefore did not pass.
  void ExpectT2HeldToTheOriginalGates(const TandemRun& run) {
    bool nobad_failed = false;
    for (const json& g : run.Events("gate_finished")) {
      if (g.value("gate", "") == "nobad" && g.value("verdict", "") == "fail") nobad_failed = true;
    }
    EXPECT_TRUE(nobad_failed) << "T2 ran under the model's verify.md\n" << run.Describe();
    for (const json& t : run.Events("task_finished")) {
      if (t.value("task", "") == "T2") {
        EXPECT_NE(t.value("state", ""), "done") << t.dump();
      }
    }
  }
  static constexpr char kWeakened[] =
      "# Verify\n\n## check (each step, timeout 30s)\n```sh\ntrue\n```\n";
};

// Between tasks of one run, verify.md is not read again: T1's edit does not
// judge T2.
TEST_F(WeakenedGatesTest, ALaterTaskOfTheSameRunKeepsTheGatesTheRunStartedWith) {
  MakeAPlanWhoseFirstTaskWeakensTheGates();
  TandemRun run = RunTandem({"run", "--json"});
  EXPECT_EQ(ReadFile("verify.md"), kWeakened);  // T1 finished with the model's edit
  ExpectT2HeldToTheOriginalGates(run);
}

// Killed after T1, the resumed run does not take the model's edit either:
// resume reads verify.md as the run started with it (its base checkpoint).
TEST_F(WeakenedGatesTest, ResumeKeepsTheGatesTheRunStartedWithNotAModelsEditOfVerifyMd) {
  MakeAPlanWhoseFirstTaskWeakensTheGates();
  TandemRun killed =
      RunTandem({"run", "--json"}, {{"TANDEM_TEST_KILL_POINT", "task_started:2"}});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();
  ASSERT_EQ(ReadFile("verify.md"), kWeakened);

  TandemRun resumed = RunTandem({"resume", "--json"});

  EXPECT_EQ(resumed.RunId(), killed.RunId());
  ExpectT2HeldToTheOriginalGates(resumed);
}

}  // namespace
}  // namespace tandem::e2e
