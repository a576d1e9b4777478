// tandem init / plan / run / status / steer end to end: a scripted planner
// writes plan.md, the scripted executor carries out each task through the
// verified loop, a person's edit of plan.md mid-run is taken into account,
// and a steering note reaches the executor's next step.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class OrchestratorRunTest : public E2eTest {};

TEST_F(OrchestratorRunTest, InitWritesTheMemoryFilesAndSaysWhatToEdit) {
  WriteFile("README.md", "# x\n");
  CommitAll();
  TandemRun init = RunTandem({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  for (const char* name : {"AGENTS.md", "verify.md", "plan.md", "progress.md"}) {
    EXPECT_TRUE(Exists(name)) << name;
    EXPECT_NE(init.out.find(std::string("wrote    ") + name), std::string::npos) << init.out;
  }
  WriteFile("AGENTS.md", "mine\n");
  TandemRun again = RunTandem({"init"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_NE(again.out.find("kept     AGENTS.md"), std::string::npos) << again.out;
  EXPECT_EQ(ReadFile("AGENTS.md"), "mine\n");
}

TEST_F(OrchestratorRunTest, PlanThenRunVerifiesEveryTask) {
  MakePassingRepo();
  std::string plan =
      "Here is the plan.\n\n```markdown\n# Plan: Two files\n\n" +
      TaskBlock("T1", "Create alpha", "Write alpha.txt [alpha]",
                "  - scope: alpha.txt\n  - accept: gates all; check `test -f alpha.txt`\n") +
      TaskBlock("T2", "Create beta", "Write beta.txt [beta]",
                "  - accept: gates check; check `grep -q alpha alpha.txt`\n", "T1") +
      "```\n";
  std::vector<json> turns = {PlannerTurn(plan)};
  for (auto& t : WriteThenFinish("[alpha]", "alpha.txt", "alpha\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[beta]", "beta.txt", "beta\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun planned = RunTandem({"plan", "Create two files"});
  ASSERT_EQ(planned.exit_code, 0) << planned.Describe();
  std::string written = ReadFile("plan.md");
  EXPECT_NE(written.find("- [ ] T1: Create alpha"), std::string::npos) << written;
  EXPECT_NE(written.find("  - after: T1"), std::string::npos) << written;
  EXPECT_EQ(written.find("Here is the plan"), std::string::npos) << written;
  // The planner saw the gates and the goal.
  ASSERT_FALSE(Requests().empty());
  std::string first = Requests()[0]["body"].dump();
  EXPECT_NE(first.find("Create two files"), std::string::npos);
  EXPECT_NE(first.find("sh check.sh"), std::string::npos);

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "succeeded");
  EXPECT_EQ(ReadFile("alpha.txt"), "alpha\n");
  EXPECT_EQ(ReadFile("beta.txt"), "beta\n");
  std::string after = ReadFile("plan.md");
  EXPECT_NE(after.find("- [x] T1: Create alpha"), std::string::npos) << after;
  EXPECT_NE(after.find("- [x] T2: Create beta"), std::string::npos) << after;
  ASSERT_EQ(run.Events("task_finished").size(), 2u) << run.Describe();
  for (const json& e : run.Events("task_finished")) EXPECT_EQ(e.value("state", ""), "done");
  // Each task's acceptance ran: its check commands as gates.
  int checks = 0;
  for (const json& e : run.Events("gate_finished")) checks += e.value("gate", "") == "check-1";
  EXPECT_GE(checks, 2);
  std::string id = run.RunId();
  EXPECT_EQ(
      LedgerValue("SELECT count(*) FROM tasks WHERE run_id = '" + id + "' AND state = 'done'"),
      "2");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE task_id = 'T2'"), "2");
  std::string progress = ReadFile("progress.md");
  EXPECT_NE(progress.find("## T1: Create alpha"), std::string::npos) << progress;
  EXPECT_NE(progress.find("wrote beta.txt"), std::string::npos) << progress;

  TandemRun status = RunTandem({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_NE(status.out.find("2/2 done"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(id), std::string::npos) << status.out;
}

TEST_F(OrchestratorRunTest, APersonsEditToPlanMdMidRunIsTakenIntoAccount) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: edit me\n\n" + TaskBlock("T1", "First", "Write one.txt [one]"));
  CommitAll("plan");
  // T1's first model reply stalls, long enough for a person to edit plan.md.
  std::vector<json> turns = WriteThenFinish("[one]", "one.txt", "1\n");
  turns[0]["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 1500}}});
  for (auto& t : WriteThenFinish("[nine]", "nine.txt", "9\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemProcess process = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(process, [](const json& e) {
    return e.value("type", "") == "task_started" && e.value("task", "") == "T1";
  }));
  std::string text = ReadFile("plan.md");
  ASSERT_NE(text.find("- [~] T1"), std::string::npos) << text;
  WriteFile("plan.md",
            text + TaskBlock("T9", "Added by a person", "Write nine.txt [nine]", "", "T1"));
  TandemRun run = WaitTandem(process);

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("nine.txt"), "9\n");
  std::string after = ReadFile("plan.md");
  EXPECT_NE(after.find("- [x] T1: First"), std::string::npos) << after;
  EXPECT_NE(after.find("- [x] T9: Added by a person"), std::string::npos) << after;
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T9'"), "done");
}

TEST_F(OrchestratorRunTest, ASteerNoteReachesTheNextStepAndIsRecorded) {
  MakePassingRepo();
  // The gate plays the person in another terminal: after the first step it
  // runs `tandem steer` once.
  // (The note's text comes from a file, so the gate's command line, which
  // the executor's prompt lists, does not give it away.)
  std::string marker = OutsidePath("steered");
  std::string note = OutsidePath("note");
  std::ofstream(note) << "use tabs, not spaces";
  WriteVerifyMd(
      {{"check", "sh check.sh"},
       {"steer", "test -f " + marker + " || { touch " + marker + "; " +
                     std::string(TANDEM_BINARY_DIR) + "/tandem steer \"$(cat " + note + ")\"; }"}});
  WriteFile("plan.md", "# Plan: steer\n\n" + TaskBlock("T1", "Two edits", "Write a.txt [steer]"));
  CommitAll("plan");
  // The gate must reach the ledger and the temp dir: outside the sandbox.
  StartServer(Script({
                  TaskTurn("[steer]", 0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                  TaskTurn("[steer]", 1, {Call("write_file", {{"path", "b.txt"}, {"content", "b\n"}})}),
                  TaskTurn("[steer]", 2, {Call("finish", {{"summary", "done"}})}),
              }),
              "[sandbox]\nmode = \"none\"\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["body"].dump().find("use tabs"), std::string::npos);
  EXPECT_NE(requests[1]["body"].dump().find("use tabs, not spaces"), std::string::npos);
  ASSERT_FALSE(run.Events("steer_delivered").empty()) << run.Describe();
  EXPECT_EQ(run.Events("steer_delivered")[0].value("where", ""), "step");
  EXPECT_EQ(LedgerValue("SELECT note FROM steer_notes"), "use tabs, not spaces");
  EXPECT_EQ(LedgerValue("SELECT run_id FROM steer_notes"), run.RunId());
  EXPECT_NE(LedgerValue("SELECT delivered_step_id FROM steer_notes"), "");
  EXPECT_NE(ReadFile("progress.md").find("steer: use tabs, not spaces"), std::string::npos)
      << ReadFile("progress.md");
}

TEST_F(OrchestratorRunTest, AMalformedPlanRunsNothingAndNamesTheLine) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan\n\n- [ ] T1: x\n  - do: y\n  - owner: me\n");
  CommitAll("plan");
  StartServer(Script({Finish(kAnyTurn)}));
  TandemRun run = RunTandem({"run"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("line 5"), std::string::npos) << run.err;
  EXPECT_TRUE(Requests().empty());
}

}  // namespace
}  // namespace tandem::e2e
