// Risk tiers, approvals and escalation end to end: an irreversible task
// waits for approval and runs on the slow tier when approved, is skipped
// with the reason recorded when denied; a task the executor fails is
// escalated to the planner, whose split is executed.
#include <gtest/gtest.h>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class OrchestratorTiersTest : public E2eTest {
 protected:
  // T1 irreversible (deploy), T2 reversible and independent.
  void MakeDeployPlan() {
    MakePassingRepo();
    WriteFile("plan.md", "# Plan: ship it\n\n" +
                             TaskBlock("T1", "Deploy", "Write deployed.txt [deploy]",
                                       "  - accept: gates all; check `test -f deployed.txt`\n"
                                       "  - risk: irreversible\n") +
                             TaskBlock("T2", "Docs", "Write docs.txt [docs]"));
    CommitAll("plan");
    std::vector<json> turns = WriteThenFinish("[deploy]", "deployed.txt", "v1\n");
    for (auto& t : WriteThenFinish("[docs]", "docs.txt", "docs\n")) turns.push_back(t);
    StartServer(Script(turns));
  }
};

TEST_F(OrchestratorTiersTest, AnIrreversibleTaskWaitsForApprovalThenRunsOnTheSlowTier) {
  MakeDeployPlan();
  TandemRun run = RunTandem({"run", "--json", "--approval", "approve"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("deployed.txt"), "v1\n");
  EXPECT_NE(ReadFile("plan.md").find("- [x] T1: Deploy"), std::string::npos);

  // The approval came before the task started, and showed what would run.
  auto requested = run.Events("approval_requested");
  ASSERT_EQ(requested.size(), 1u) << run.Describe();
  EXPECT_NE(requested[0].value("what", "").find("Write deployed.txt"), std::string::npos);
  EXPECT_NE(requested[0].value("what", "").find("test -f deployed.txt"), std::string::npos);
  size_t approved_at = 0, started_at = 0;
  for (size_t i = 0; i < run.events.size(); ++i) {
    const json& e = run.events[i];
    if (e.value("type", "") == "approval_decided") approved_at = i;
    if (e.value("type", "") == "task_started" && e.value("task", "") == "T1") started_at = i;
  }
  EXPECT_LT(approved_at, started_at);
  for (const json& e : run.Events("task_started")) {
    EXPECT_EQ(e.value("tier", ""), e.value("task", "") == "T1" ? "reviewer" : "executor");
  }
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by FROM approvals"), "approved policy");
  EXPECT_EQ(LedgerValue("SELECT task_id FROM approvals"), "T1");
  EXPECT_EQ(LedgerValue("SELECT tier FROM tasks WHERE task_id = 'T1'"), "reviewer");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "2");
}

TEST_F(OrchestratorTiersTest, ADeniedTaskIsSkippedWithTheReasonRecorded) {
  MakeDeployPlan();
  TandemRun run = RunTandem({"run", "--json", "--set", "approval.policy=deny"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Exists("deployed.txt"));
  EXPECT_EQ(ReadFile("docs.txt"), "docs\n");  // the independent task still ran
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [-] T1: Deploy"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T2: Docs"), std::string::npos) << plan;
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by FROM approvals"), "denied policy");
  EXPECT_EQ(LedgerValue("SELECT reason FROM approvals"), "approval.policy = deny");
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T1'"), "skipped");
  EXPECT_NE(LedgerValue("SELECT outcome_detail FROM tasks WHERE task_id = 'T1'").find("denied"),
            std::string::npos);
  std::string progress = ReadFile("progress.md");
  EXPECT_NE(progress.find("denied: approval.policy = deny"), std::string::npos) << progress;
  EXPECT_EQ(CountRequests(Requests(), "[deploy]", 0), 0);  // it never reached a model
}

TEST_F(OrchestratorTiersTest, AFailedTaskIsEscalatedAndSolvedByASplit) {
  MakePassingRepo();
  WriteVerifyMd({{"check", "sh check.sh"}, {"nobad", "! grep -rq bad --include=*.txt ."}});
  WriteFile("plan.md", "# Plan: split\n\n" + TaskBlock("T1", "Too big", "Write big.txt [big]") +
                           TaskBlock("T2", "Then", "Write then.txt [then]", "", "T1"));
  CommitAll("plan");
  std::string split = "SPLIT: two smaller steps\n\n" +
                      TaskBlock("T1a", "Half A", "Write a.txt [part-a]") +
                      TaskBlock("T1b", "Half B", "Write b.txt [part-b]", "", "T1a");
  std::vector<json> turns = {ReplanTurn(split)};
  // The executor only ever writes something the gate rejects.
  turns.push_back(TaskTurn("[big]", kAnyTurn,
                           {Call("write_file", {{"path", "big.txt"}, {"content", "bad\n"}})}));
  for (auto& t : WriteThenFinish("[part-a]", "a.txt", "a\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[part-b]", "b.txt", "b\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[then]", "then.txt", "then\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json", "--set", "limits.step_retries=1", "--set",
                             "models.scripted.price_input=1.0", "--set",
                             "models.scripted.price_output=2.0"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(ReadFile("a.txt"), "a\n");
  EXPECT_EQ(ReadFile("b.txt"), "b\n");
  EXPECT_EQ(ReadFile("then.txt"), "then\n");
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [-] T1: Too big"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T1a: Half A"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T1b: Half B"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T2: Then\n  - do: Write then.txt [then]\n  - after: T1a, T1b"),
            std::string::npos)
      << plan;
  // The planner saw the failure.
  int replans = 0;
  for (const json& r : Requests()) {
    std::string body = r["body"].dump();
    if (body.find("A task of your plan failed") == std::string::npos) continue;
    replans++;
    EXPECT_NE(body.find("Failed task T1"), std::string::npos);
    EXPECT_NE(body.find("retry budget"), std::string::npos);
  }
  EXPECT_EQ(replans, 1);
  auto escalated = run.Events("escalated");
  ASSERT_EQ(escalated.size(), 1u) << run.Describe();
  EXPECT_EQ(escalated[0].value("action", ""), "split");
  EXPECT_EQ(LedgerValue("SELECT action || ' ' || task_id || ' ' || from_tier || ' ' || to_tier "
                        "FROM escalations"),
            "split T1 executor planner");
  EXPECT_NE(ReadFile("progress.md").find("split into T1a, T1b"), std::string::npos);
  // Every model call of the run, the re-plan's included, adds up to the
  // run's totals.
  int64_t tokens_in = 0, tokens_out = 0;
  double model_ms = 0, cost = 0;
  for (const json& e : run.Events("model_call_finished")) {
    tokens_in += e["usage"].value("input_tokens", int64_t{0});
    tokens_out += e["usage"].value("output_tokens", int64_t{0});
    model_ms += e.value("duration_ms", 0.0);
    cost += e.value("cost_usd", 0.0);
  }
  json finished = run.Finished();
  EXPECT_EQ(finished["usage"].value("input_tokens", int64_t{-1}), tokens_in) << finished.dump();
  EXPECT_EQ(finished["usage"].value("output_tokens", int64_t{-1}), tokens_out) << finished.dump();
  EXPECT_NEAR(finished.value("model_ms", 0.0), model_ms, 0.01) << finished.dump();
  EXPECT_NEAR(finished.value("cost_usd", 0.0), cost, 1e-12) << finished.dump();
  EXPECT_GT(cost, 0.0);
}

TEST_F(OrchestratorTiersTest, EscalationsAreBoundedThenTheTaskFailsAndOthersGoOn) {
  MakePassingRepo();
  WriteVerifyMd({{"check", "sh check.sh"}, {"nobad", "! grep -rq bad --include=*.txt ."}});
  WriteFile("plan.md", "# Plan: bounded\n\n" +
                           TaskBlock("T1", "Hopeless", "Write x.txt [hopeless]") +
                           TaskBlock("T2", "Blocked", "Write y.txt [y]", "", "T1") +
                           TaskBlock("T3", "Free", "Write z.txt [free-z]"));
  CommitAll("plan");
  std::vector<json> turns = {ReplanTurn("ESCALATE: needs the slow tier")};
  turns.push_back(TaskTurn("[hopeless]", kAnyTurn,
                           {Call("write_file", {{"path", "x.txt"}, {"content", "bad\n"}})}));
  for (auto& t : WriteThenFinish("[free-z]", "z.txt", "z\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json", "--set", "limits.step_retries=0"});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [!] T1: Hopeless"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [ ] T2: Blocked"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T3: Free"), std::string::npos) << plan;
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM escalations WHERE action = 'escalate'"), "2");
  EXPECT_EQ(LedgerValue("SELECT attempts FROM tasks WHERE task_id = 'T1'"), "3");
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T1'"), "failed");
  EXPECT_EQ(run.Finished().value("outcome", ""), "failed");
}

}  // namespace
}  // namespace tandem::e2e
