// Irreversible commands inside a task, the live view's input, `tandem status
// --json` and the person's time, end to end: during `tandem run` an
// executor's command that the classifier marks irreversible goes to the slow
// tier, then to the approval policy or a person at the prompt; lines typed
// into the terminal become steer notes; the wait at a prompt is the
// person's time, not tandem's.
//
// The live-view scenarios drive the real binary on a pseudo-terminal
// (forkpty), so stdin is a terminal exactly as for a person.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/orchestrator_helpers.h"
#include "tests/e2e/pty_tandem.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

const char kReviewSystem[] = "slow, careful tier";
const char kCommand[] = "git tag -f approved-tag";

// The slow tier's answer to a command review.
json ReviewTurn(const std::string& text) {
  return {{"when", {{"system_contains", kReviewSystem}}}, {"text", text}};
}

class OrchestratorCommandsTest : public E2eTest {
 protected:
  // T1 (reversible) whose executor runs `git tag -f approved-tag` (the
  // classifier: "overwrites a tag"), then finishes. `review` is the slow
  // tier's answer.
  void MakeTagPlan(const std::string& review, const std::string& extra = "") {
    MakePassingRepo();
    WriteFile("plan.md",
              "# Plan: release\n\n" + TaskBlock("T1", "Tag the release", "Tag it [tagit]", extra));
    CommitAll("plan");
    StartServer(Script({ReviewTurn(review),
                        TaskTurn("[tagit]", 0, {Call("run_command", {{"command", kCommand}})}),
                        TaskTurn("[tagit]", 1, {Call("finish", {{"summary", "tagged"}})})}));
  }

  bool Tagged() { return !Git("tag -l approved-tag").empty(); }

  // What the executor got back for its command (the tool result in the
  // request after its first turn).
  std::string ExecutorSaw() {
    for (const json& r : Requests()) {
      const json& body = r["body"];
      if (!body.is_object() || !body.contains("messages")) continue;
      if (body.dump().find(kReviewSystem) != std::string::npos) continue;
      for (const auto& m : body["messages"]) {
        if (m.value("role", "") == "tool") return m["content"].dump();
      }
    }
    return "";
  }

  int ReviewRequests() {
    int n = 0;
    for (const json& r : Requests()) {
      if (r["body"].dump().find(kReviewSystem) != std::string::npos) n++;
    }
    return n;
  }

  std::string ConfigHome() { return config_home(); }
};

TEST_F(OrchestratorCommandsTest, AnIrreversibleCommandReviewedAndApprovedRunsOutsideTheSandbox) {
  MakeTagPlan("RUN: tagging the release is the task");
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // The tag is in .git, which the sandbox mounts read-only: it ran outside.
  EXPECT_TRUE(Tagged());
  EXPECT_NE(ExecutorSaw().find("exit code 0"), std::string::npos) << ExecutorSaw();
  EXPECT_EQ(ReviewRequests(), 1);
  // The review request names the task, the command and the classifier's reason.
  for (const json& r : Requests()) {
    std::string body = r["body"].dump();
    if (body.find(kReviewSystem) == std::string::npos) continue;
    EXPECT_NE(body.find("Tag it [tagit]"), std::string::npos);
    EXPECT_NE(body.find(kCommand), std::string::npos);
    EXPECT_NE(body.find("overwrites"), std::string::npos) << body;
  }
  auto requested = run.Events("approval_requested");
  ASSERT_EQ(requested.size(), 1u) << run.Describe();
  EXPECT_EQ(requested[0].value("command", ""), kCommand);
  EXPECT_NE(requested[0].value("why", "").find("tagging the release is the task"),
            std::string::npos);
  auto decided = run.Events("approval_decided");
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].value("decision", ""), "approved");
  EXPECT_EQ(decided[0].value("decided_by", ""), "policy");
  EXPECT_EQ(LedgerValue("SELECT what || ' | ' || decision || ' ' || decided_by FROM approvals"),
            std::string(kCommand) + " | approved policy");
  EXPECT_NE(LedgerValue("SELECT step_id FROM approvals"), "");  // the step that asked
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "1");
  EXPECT_EQ(LedgerValue("SELECT tier FROM tasks WHERE task_id = 'T1'"), "executor");
}

// The approval's note lands in progress.md while the step runs; the step's
// scope (src/) must not count it as the model's out-of-scope edit, or the
// approved command's step would be rolled back and asked for again.
TEST_F(OrchestratorCommandsTest, AnApprovedCommandInAScopedTaskIsNotRolledBackForTandemsOwnNotes) {
  MakeTagPlan("RUN: tagging the release is the task", "  - scope: src/**\n");
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(Tagged());
  EXPECT_TRUE(run.Events("step_rolled_back").empty()) << run.Describe();
  EXPECT_EQ(run.Events("approval_requested").size(), 1u);
  EXPECT_NE(ReadFile("progress.md").find("approved"), std::string::npos) << ReadFile("progress.md");
}

TEST_F(OrchestratorCommandsTest, TheSlowTiersRefusalGoesBackToTheExecutorWithoutAsking) {
  MakeTagPlan("REFUSE: do not tag from a task; note the version in CHANGES instead");
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Tagged());
  std::string saw = ExecutorSaw();
  EXPECT_NE(saw.find("run_command refused: the reviewer tier refused it: do not tag from a task"),
            std::string::npos)
      << saw;
  EXPECT_TRUE(run.Events("approval_requested").empty());  // nobody was asked
  auto decided = run.Events("approval_decided");
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].value("decided_by", ""), "slow_tier");
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by || ' ' || waited_ms FROM approvals"),
            "denied policy 0");
  EXPECT_NE(ReadFile("progress.md").find("the reviewer tier refused it"), std::string::npos);
}

TEST_F(OrchestratorCommandsTest, AGarbledReviewIsARefusal) {
  MakeTagPlan("Sure, go ahead!");
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Tagged());
  EXPECT_NE(ExecutorSaw().find("not RUN or REFUSE"), std::string::npos) << ExecutorSaw();
  EXPECT_EQ(LedgerValue("SELECT decision FROM approvals"), "denied");
}

TEST_F(OrchestratorCommandsTest, ThePolicyDeniesWhatTheSlowTierWouldRun) {
  MakeTagPlan("RUN: fine");
  TandemRun run = RunTandem({"run", "--json", "--approval", "deny"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Tagged());
  EXPECT_NE(ExecutorSaw().find("denied: approval.policy = deny"), std::string::npos)
      << ExecutorSaw();
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by FROM approvals"), "denied policy");
  EXPECT_EQ(run.Events("approval_requested").size(), 1u);
}

TEST_F(OrchestratorCommandsTest, TandemDoStillRefusesWithoutAReview) {
  MakePassingRepo();
  StartServer(
      Script({ReviewTurn("RUN: fine"), Turn(0, {Call("run_command", {{"command", kCommand}})}),
              Finish(1, "gave up")}));
  TandemRun run = Do("tag it", {"--set", "approval.policy=approve"});
  EXPECT_FALSE(Tagged());
  EXPECT_EQ(ReviewRequests(), 0);
  EXPECT_NE(ExecutorSaw().find("run_command refused"), std::string::npos) << ExecutorSaw();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM approvals"), "0");
}

TEST_F(OrchestratorCommandsTest, StatusJsonHasTheTextViewsContent) {
  MakeTagPlan("REFUSE: no");
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  TandemRun text = RunTandem({"status"});
  TandemRun status = RunTandem({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  json j = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << status.out;
  EXPECT_EQ(j["schema"], "tandem.status/1");
  EXPECT_EQ(j["run"]["id"], run.RunId());
  EXPECT_EQ(j["run"]["state"], "succeeded");
  EXPECT_EQ(j["run"]["live"], false);
  EXPECT_EQ(j["run"]["totals"]["denials"], 1);
  EXPECT_EQ(j["run"]["totals"]["approvals"], 0);
  EXPECT_EQ(j["plan"]["goal"], "release");
  EXPECT_EQ(j["plan"]["done"], 1);
  EXPECT_EQ(j["plan"]["total"], 1);
  EXPECT_TRUE(j["plan"]["error"].is_null());
  ASSERT_EQ(j["plan"]["tasks"].size(), 1u);
  const json& t = j["plan"]["tasks"][0];
  EXPECT_EQ(t["id"], "T1");
  EXPECT_EQ(t["state"], "done");
  EXPECT_EQ(t["risk"], "reversible");
  EXPECT_EQ(t["tier"], "executor");
  EXPECT_EQ(t["attempts"], 1);
  EXPECT_EQ(j["waiting"].size(), 0u);
  EXPECT_EQ(j["pending_notes"].size(), 0u);
  // The text view says the same.
  EXPECT_NE(text.out.find("run " + run.RunId() + " · succeeded"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0 approved, 1 denied"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1/1 done"), std::string::npos) << text.out;
}

// The live view on a terminal: the approval prompt shows the command and why;
// the typed answer decides it after a known wait, which is counted as the
// person's time; a line typed afterwards is a steer note for the next step.
TEST_F(OrchestratorCommandsTest, OnATerminalAPromptIsAnsweredAndATypedLineSteers) {
  MakePassingRepo();
  // The gate waits (once) until the steer note is in progress.md, so the
  // note is typed while the task is between its steps. The note's text
  // comes from a file: the gate's command line, which the prompt lists,
  // must not give it away.
  std::string marker = OutsidePath("gate-waited");
  std::string note_file = OutsidePath("note");
  const std::string note = "keep the tag name lower case";
  std::ofstream(note_file) << note;
  WriteVerifyMd(
      {{"check", "sh check.sh"},
       {"wait-note", "test -f " + marker + " || { touch " + marker + "; until grep -qF \"$(cat " +
                         note_file + ")\" progress.md; do sleep 0.05; done; }"}});
  WriteFile("plan.md", "# Plan: live\n\n" + TaskBlock("T1", "Tag live", "Tag it [live]"));
  CommitAll("plan");
  StartServer(Script({ReviewTurn("RUN: the task asks for the tag"),
                      TaskTurn("[live]", 0,
                               {Call("run_command", {{"command", kCommand}}),
                                Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                      TaskTurn("[live]", 1, {Call("finish", {{"summary", "tagged"}})})}));

  PtyTandem tandem(root(), {"run", "--json"}, ConfigHome());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitFor("Run this command for task T1? [y/N]")) << tandem.output();
  // The prompt shows exactly the command, then why it needs approval.
  EXPECT_NE(
      tandem.Text().find(
          std::string("─\n") + kCommand +
          "\n\nwhy: the classifier marks it irreversible (git tag: deletes or overwrites a tag)"),
      std::string::npos)
      << tandem.Text();
  constexpr int kWaitMs = 1200;  // the person reads the prompt
  std::this_thread::sleep_for(std::chrono::milliseconds(kWaitMs));
  tandem.Type("y the release needs it");
  ASSERT_TRUE(tandem.WaitFor("\"type\":\"approval_decided\"")) << tandem.output();
  tandem.Type(note);
  ASSERT_TRUE(tandem.WaitFor("steer note added")) << tandem.output();
  int exit_code = tandem.Wait();
  ASSERT_EQ(exit_code, 0) << tandem.output();

  EXPECT_TRUE(Tagged());
  // The answer decided the prompt and was not taken for a note.
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by || ' ' || reason FROM approvals"),
            "approved person the release needs it");
  int64_t waited = std::stoll(LedgerValue("SELECT waited_ms FROM approvals"));
  EXPECT_GE(waited, kWaitMs);
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steer_notes"), "1");
  EXPECT_EQ(LedgerValue("SELECT note || ' ' || source FROM steer_notes"), note + " terminal");
  EXPECT_NE(LedgerValue("SELECT delivered_step_id FROM steer_notes"), "");
  EXPECT_NE(ReadFile("progress.md").find("steer: " + note), std::string::npos);
  // The note reached the executor's next step.
  auto requests = Requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_NE(requests.back()["body"].dump().find(note), std::string::npos);

  // The wait is the person's time: in run_finished, split from tandem's.
  auto finished = tandem.Events("run_finished");
  ASSERT_EQ(finished.size(), 1u) << tandem.output();
  const json& f = finished[0];
  EXPECT_EQ(f["human_ms"].get<double>(), static_cast<double>(waited));
  EXPECT_LT(f["tool_ms"].get<double>(), static_cast<double>(waited));  // not counted as a tool's
  // Each part matches what its own events measured, and the parts fit in
  // the wall time: nothing, the person's wait included, is counted twice.
  double tools = 0, gates = 0;
  for (const json& t : tandem.Events("tool_finished")) tools += t["duration_ms"].get<double>();
  for (const json& g : tandem.Events("gate_finished")) {
    if (!g["cached"].get<bool>()) gates += g["duration_ms"].get<double>();
  }
  EXPECT_NEAR(f["tool_ms"].get<double>(), tools, 1.0);
  EXPECT_NEAR(f["gate_ms"].get<double>(), gates, 1.0);
  EXPECT_GT(f["model_ms"].get<double>(), 0.0);
  EXPECT_LE(f["model_ms"].get<double>() + f["tool_ms"].get<double>() + f["gate_ms"].get<double>() +
                f["human_ms"].get<double>(),
            f["wall_ms"].get<double>() + 1.0);
  // ... and in `tandem stats`.
  TandemRun stats = RunTandem({"stats", "--json", "--all"});
  json s = json::parse(stats.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << stats.out;
  EXPECT_EQ(s["time"]["person_ms"], waited);
  EXPECT_EQ(s["human"]["approval_wait_ms"], waited);
  EXPECT_EQ(s["human"]["person_decisions"], 1);
  EXPECT_LT(s["time"]["tool_ms"].get<int64_t>(), waited);
}

// Without --json: the terminal view shows the denial and the person's time
// in the summary; the executor reads the person's reason.
TEST_F(OrchestratorCommandsTest, OnATerminalADenialReachesTheExecutor) {
  MakeTagPlan("RUN: the task asks for it");
  PtyTandem tandem(root(), {"run"}, ConfigHome());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitFor("[y/N]")) << tandem.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the person reads it
  tandem.Type("n not from a task, please");
  int exit_code = tandem.Wait();
  ASSERT_EQ(exit_code, 0) << tandem.output();
  EXPECT_FALSE(Tagged());
  EXPECT_NE(ExecutorSaw().find("denied: not from a task, please"), std::string::npos)
      << ExecutorSaw();
  EXPECT_NE(tandem.output().find("denied by person"), std::string::npos) << tandem.output();
  EXPECT_NE(tandem.Text().find("→ run_command git tag -f approved-tag\n"), std::string::npos)
      << tandem.Text();  // the tool line ends before the review's lines
  EXPECT_NE(tandem.output().find("+ waiting for you "), std::string::npos) << tandem.output();
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by FROM approvals"), "denied person");
}


// A person's time at the prompt is not the task's: a 2-second wall-time
// limit must not end the task because its person took 2.5 s to approve.
TEST_F(OrchestratorCommandsTest, TimeAtThePromptDoesNotCountAgainstTheWallTimeLimit) {
  MakeTagPlan("RUN: the task asks for it");
  PtyTandem tandem(root(), {"run", "--set", "limits.max_wall_s=2"}, ConfigHome());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitFor("[y/N]")) << tandem.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  tandem.Type("y");
  int exit_code = tandem.Wait();
  ASSERT_EQ(exit_code, 0) << tandem.output();
  EXPECT_TRUE(Tagged());
  EXPECT_EQ(tandem.output().find("wall-time limit"), std::string::npos) << tandem.output();
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T1'"), "done");
}

}  // namespace
}  // namespace tandem::e2e
