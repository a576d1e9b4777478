// Stopping a run: Ctrl-C (SIGINT) while a command runs or while the model
// stream stalls keeps the completed steps and rolls back the unfinished
// one; kill -9 leaves the step half done, and the next tandem command in
// the repository restores it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>


#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

// A command that says it started (a file in the workspace) and then hangs.
constexpr char kSlowCommand[] = "touch started.marker && sleep 30";

class InterruptTest : public E2eTest {
 protected:
  // Waits until the slow command runs inside its sandbox: signalling
  // earlier would race the sandbox's own start-up.
  bool WaitForCommandStart(const TandemProcess& process) {
    return WaitForEvent(process, ToolStarted("run_command")) && WaitForFile("started.marker");
  }
  static json WriteKept() {
    return Call("write_file", {{"path", "kept.txt"}, {"content", "kept\n"}});
  }
  static std::function<bool(const json&)> ToolStarted(const std::string& name) {
    return [name](const json& e) {
      return e.value("type", "") == "tool_started" && e.value("name", "") == name;
    };
  }
};

TEST_F(InterruptTest, CtrlCDuringACommandKeepsCompletedStepsAndRollsBackTheCurrentOne) {
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {WriteKept()}),
      Turn(1, {Call("write_file", {{"path", "partial.txt"}, {"content", "half\n"}}),
               Call("edit_file",
                    {{"path", "tracked.txt"}, {"old_text", "keep"}, {"new_text", "lose"}}),
               Call("run_command", {{"command", kSlowCommand}})}),
      Finish(2),
  }));

  TandemProcess process = SpawnTandem({"do", "--json", "slow work"});
  ASSERT_TRUE(WaitForCommandStart(process));
  ASSERT_TRUE(Exists("partial.txt"));  // the step's edit happened before the command
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);

  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "interrupted");
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("partial.txt"));
  EXPECT_FALSE(Exists("started.marker"));  // created by the interrupted command
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\n");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
  EXPECT_EQ(LedgerValue("SELECT state FROM steps WHERE n = 2"), "interrupted");
  EXPECT_EQ(LedgerValue("SELECT state FROM steps WHERE n = 1"), "done");
}

TEST_F(InterruptTest, CtrlCDuringAStalledModelStreamStopsTheRun) {
  MakePassingRepo();
  json stalled = Turn(1, {Call("write_file", {{"path", "never.txt"}, {"content", "x\n"}})},
                      "Now I will write another file for you.");
  stalled["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 2}, {"stall_ms", 30000}}});
  StartServer(Script({Turn(0, {WriteKept()}), stalled, Finish(2)}));

  TandemProcess process = SpawnTandem({"do", "--json", "stall"});
  ASSERT_TRUE(WaitForEvent(process, [](const json& e) {
    return e.value("type", "") == "step_started" && e.value("step", 0) == 2;
  }));
  // The stream has delivered its first tokens and stalls after them.
  ASSERT_TRUE(WaitForEvent(process, [](const json& e) {
    return e.value("type", "") == "model_delta" &&
           std::string_view("Now I will").starts_with(e.value("text", "x"));
  }));
  ASSERT_EQ(Requests().size(), 2u);
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);

  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "interrupted");
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("never.txt"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
}

TEST_F(InterruptTest, CtrlCDuringAGateRollsBackTheUnverifiedStep) {
  MakePassingRepo();
  WriteFile("check.sh", "#!/bin/sh\nif [ -f slow.txt ]; then touch gate.started; sleep 30; fi\n");
  CommitAll("slow gate");
  StartServer(Script({
      Turn(0, {WriteKept()}),
      Turn(1, {Call("write_file", {{"path", "slow.txt"}, {"content", "makes the gate slow\n"}})}),
      Finish(2),
  }));

  TandemProcess process = SpawnTandem({"do", "--json", "slow gate"});
  ASSERT_TRUE(WaitForEvent(process, [](const json& e) {
    return e.value("type", "") == "tool_finished" && e.value("name", "") == "write_file" &&
           e.value("id", "").find("_2_") != std::string::npos;
  }));
  // The gate says it runs (a file in the workspace, as kSlowCommand does).
  ASSERT_TRUE(WaitForFile("gate.started"));
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);

  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("slow.txt")) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'"), "0");
}

TEST_F(InterruptTest, AfterKillNineTheNextCommandRestoresTheInterruptedStep) {
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {WriteKept()}),
      Turn(1, {Call("edit_file",
                    {{"path", "tracked.txt"}, {"old_text", "keep"}, {"new_text", "half-done"}}),
               Call("write_file", {{"path", "half.txt"}, {"content", "half\n"}}),
               Call("run_command", {{"command", kSlowCommand}})}),
  }));

  TandemProcess process = SpawnTandem({"do", "--json", "crash in the middle"});
  ASSERT_TRUE(WaitForCommandStart(process));
  ::kill(process.pid, SIGKILL);
  TandemRun killed = WaitTandem(process);
  ASSERT_EQ(killed.term_signal, SIGKILL);
  std::string first_run = killed.RunId();
  ASSERT_FALSE(first_run.empty());
  // The crash left the step half done.
  ASSERT_TRUE(Exists("half.txt"));
  ASSERT_EQ(ReadFile("tracked.txt"), "half-done me\n");

  StartServer(Script({Finish(0, "nothing left")}));
  TandemRun next = Do("carry on");

  ASSERT_EQ(next.exit_code, 0) << next.Describe();
  EXPECT_TRUE(next.HasNotice("restored run " + first_run + " step 2")) << next.Describe();
  EXPECT_FALSE(Exists("half.txt"));
  EXPECT_FALSE(Exists("started.marker"));
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\n");
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");  // the completed step survives
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE id = '" + first_run + "'"), "interrupted");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'"), "0");
  auto ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  auto problems = ledger->IntegrityCheck();
  ASSERT_TRUE(problems.has_value()) << problems.error().ToString();
  EXPECT_TRUE(problems->empty()) << (problems->empty() ? "" : problems->front());
}

TEST_F(InterruptTest, AfterKillNineUndoRestoresTheTreeAsBeforeTheRun) {
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {WriteKept()}),
      Turn(1, {Call("edit_file",
                    {{"path", "tracked.txt"}, {"old_text", "keep"}, {"new_text", "half-done"}}),
               Call("run_command", {{"command", kSlowCommand}})}),
  }));
  TandemProcess process = SpawnTandem({"do", "--json", "crash in the middle"});
  ASSERT_TRUE(WaitForCommandStart(process));
  ::kill(process.pid, SIGKILL);
  TandemRun killed = WaitTandem(process);
  ASSERT_EQ(killed.term_signal, SIGKILL);
  ASSERT_EQ(ReadFile("tracked.txt"), "half-done me\n");

  TandemRun undo = RunTandem({"undo"});

  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_NE(undo.out.find("restored run " + killed.RunId() + " step 2"), std::string::npos)
      << undo.Describe();
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\n");
  EXPECT_FALSE(Exists("kept.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'"), "0");
}

// A model that weakens verify.md in a step and is then killed does not
// weaken the next command's gates: the step is restored before the gates
// are read (`tandem do` and `tandem run` alike).
class KilledGateEditTest : public InterruptTest {
 protected:
  // A `tandem do` whose model drops the 'nobad' gate, killed mid-step.
  void KillAModelWeakeningTheGates() {
    MakePassingRepo();
    WriteVerifyMd({{"check", "sh check.sh"}, {"nobad", "! grep -rq bad --include=*.txt ."}});
    WriteFile("plan.md", "# Plan: one\n\n- [ ] T1: Out\n  - do: Write out.txt\n");
    CommitAll("gates");
    StartServer(Script({
        Turn(0, {Call("write_file", {{"path", "verify.md"}, {"content", kWeakened}})}),
        Finish(kAnyTurn),
    }));
    TandemRun killed =
        Do("weaken the gates", {}, {{"TANDEM_TEST_KILL_POINT", "tool_finished:1"}});
    ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();
    ASSERT_EQ(ReadFile("verify.md"), kWeakened);  // the step was half done
    StartServer(Script({
        Turn(0, {Call("write_file", {{"path", "out.txt"}, {"content", "bad\n"}})}),
        Finish(kAnyTurn),
    }), "\n[limits]\nstep_retries = 0\n");
  }
  void ExpectTheOriginalGatesHeld(const TandemRun& next) {
    EXPECT_TRUE(next.HasNotice("restored run")) << next.Describe();
    EXPECT_NE(ReadFile("verify.md"), kWeakened);
    bool nobad_failed = false;
    for (const json& g : next.Events("gate_finished")) {
      if (g.value("gate", "") == "nobad" && g.value("verdict", "") == "fail") nobad_failed = true;
    }
    EXPECT_TRUE(nobad_failed) << "the killed step's verify.md gated the next command\n"
                              << next.Describe();
    EXPECT_FALSE(Exists("out.txt"));
  }
  static constexpr char kWeakened[] =
      "# Verify\n\n## check (each step, timeout 30s)\n```sh\ntrue\n```\n";
};

TEST_F(KilledGateEditTest, TheNextDoReadsTheGatesAfterRestoringTheStep) {
  KillAModelWeakeningTheGates();
  ExpectTheOriginalGatesHeld(Do("write out.txt"));
}

TEST_F(KilledGateEditTest, TheNextRunReadsTheGatesAfterRestoringTheStep) {
  KillAModelWeakeningTheGates();
  ExpectTheOriginalGatesHeld(RunTandem({"run", "--json"}));
}

}  // namespace
}  // namespace tandem::e2e
