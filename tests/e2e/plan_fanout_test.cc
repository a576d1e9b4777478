// A plan.md task with `variants: N` under `tandem run`: the task fans out to
// N variants (one executor model, told apart by the temperature ladder of
// docs/FANOUT.md: default, 0.4, 0.8), the top-ranked passing variant becomes
// the task's change (merged and gated like any task's), the fan-out is a run
// of its own that `tandem variants` lists and `tandem pick` picks from
// later; when no variant passes, the task fails and is escalated as any
// failed task.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

// A turn of the variant sent at `temperature` (a number, or "default").
json AtTemperature(json turn, json temperature) {
  turn["when"]["temperature"] = std::move(temperature);
  return turn;
}

class PlanFanoutTest : public E2eTest {
 protected:
  // check.sh fails when out.txt says BAD.
  void MakeRepo() {
    WriteFile("README.md", "# sample\n");
    WriteFile("check.sh",
              "#!/bin/sh\n"
              "if grep -q BAD out.txt 2>/dev/null; then echo 'out.txt says BAD'; exit 1; fi\n"
              "echo ok\n");
    WriteVerifyMd({{"check", "sh check.sh"}});
  }

  json VariantsJson(const std::string& fanout) {
    TandemRun listed = RunTandem({"variants", fanout, "--json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.Describe();
    return json::parse(listed.out, nullptr, false);
  }

  static const json& ById(const json& variants, int n) {
    for (const json& v : variants["variants"]) {
      if (v["n"] == n) return v;
    }
    static const json none;
    return none;
  }
};

TEST_F(PlanFanoutTest, TheTopRankedPassingVariantBecomesTheTasksChangeAndAnotherCanBePicked) {
  MakeRepo();
  WriteFile("plan.md", "# Plan: out.txt\n\n" +
                           TaskBlock("T1", "Make out.txt say ok", "Write out.txt [fan-t1]",
                                     "  - variants: 3\n") +
                           TaskBlock("T2", "Then t2.txt", "Write t2.txt [after-t2]", "", "T1"));
  CommitAll("plan");
  std::string big;
  for (int i = 0; i < 30; ++i) big += "line " + std::to_string(i) + "\n";
  std::vector<json> turns;
  // The reviewer's tournament (the fixture configures a reviewer) between
  // the two passing candidates: it prefers the smaller change.
  for (const char* side : {"A", "B"}) {
    json judge = Turn(kAnyTurn, {Call("compare_verdict", {{"better", side},
                                                          {"reason", "the smaller change"}})});
    judge["when"]["system_contains"] = "judging a tournament between candidate changes";
    judge["when"]["last_message_contains"] = std::string("## Candidate ") + side + ": +1/";
    turns.push_back(judge);
  }
  for (auto& t : WriteThenFinish("[after-t2]", "t2.txt", "t2\n")) turns.push_back(t);
  // v1 (the provider's default temperature): passes with a large diff.
  turns.push_back(AtTemperature(
      TaskTurn("[fan-t1]", 0,
               {Call("write_file", {{"path", "out.txt"}, {"content", "ok\n"}}),
                Call("write_file", {{"path", "big.txt"}, {"content", big}})}),
      "default"));
  turns.push_back(AtTemperature(TaskTurn("[fan-t1]", 1, {Call("finish", {{"summary", "big"}})}),
                                "default"));
  // v2 (0.4): passes with the smallest diff: ranked first.
  for (auto& t : WriteThenFinish("[fan-t1]", "out.txt", "ok\n")) {
    turns.push_back(AtTemperature(t, 0.4));
  }
  // v3 (0.8): always writes what the gate refuses.
  turns.push_back(AtTemperature(
      TaskTurn("[fan-t1]", kAnyTurn,
               {Call("write_file", {{"path", "out.txt"}, {"content", "BAD\n"}})}),
      0.8));
  StartServer(Script(turns), "[limits]\nstep_retries = 1\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [x] T1:"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T2:"), std::string::npos) << plan;
  // The task's change is v2's tree: out.txt, and not v1's big.txt.
  EXPECT_EQ(ReadFile("out.txt"), "ok\n");
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(ReadFile("t2.txt"), "t2\n");

  std::string id = run.RunId();
  std::string fanout = id + ".T1.1";
  EXPECT_EQ(LedgerValue("SELECT id || ' ' || outcome FROM runs WHERE kind = 'fanout'"),
            fanout + " succeeded");
  // The variants' events are the task's, in the plan run's scope.
  int variant_ends = 0;
  for (const json& e : run.Events("task_finished")) {
    if (e.value("task", "").rfind("T1.v", 0) == 0) {
      variant_ends++;
      EXPECT_EQ(e.value("run", ""), id) << e;
    }
  }
  EXPECT_EQ(variant_ends, 3) << run.Describe();
  EXPECT_EQ(run.Events("run_finished").size(), 1u) << "the plan run's end only";

  json listed = VariantsJson(fanout);
  ASSERT_TRUE(listed.is_object()) << listed;
  ASSERT_EQ(listed["variants"].size(), 3u) << listed.dump(2);
  const json& large = ById(listed, 1);
  const json& small = ById(listed, 2);
  const json& fail = ById(listed, 3);
  EXPECT_EQ(small["state"], "passed");
  EXPECT_EQ(small["rank"], 1) << listed.dump(2);
  EXPECT_EQ(large["state"], "passed");
  EXPECT_EQ(large["rank"], 2);
  EXPECT_EQ(fail["state"], "failed");
  EXPECT_EQ(fail["rank"], 3);
  ASSERT_EQ(listed["comparisons"].size(), 1u) << listed.dump(2);
  EXPECT_EQ(listed["comparisons"][0]["winner"], 2) << listed.dump(2);
  // Merged exactly: the checkout's files (tandem's own aside) after T1's
  // merge step are v2's final tree.
  std::string merged = LedgerValue("SELECT checkpoint_after FROM steps WHERE run_id = '" + id +
                                   "' AND task_id = 'T1' AND note = 'merged into the integrated "
                                   "tree'");
  ASSERT_FALSE(merged.empty());
  EXPECT_EQ(Git("diff --stat " + small["final_checkpoint"].get<std::string>() + " " + merged +
                " -- . :!plan.md :!progress.md"),
            "");
  // The summary names the variant that won and where the others are.
  std::string detail = LedgerValue("SELECT outcome_detail FROM tasks WHERE run_id = '" + id +
                                   "' AND task_id = 'T1'");
  EXPECT_NE(detail.find("variant 2 of 3 ranked first"), std::string::npos) << detail;

  // The plan run's id shows its one fan-out directly, as the fan-out's id does.
  json by_plan = VariantsJson(id);
  EXPECT_EQ(by_plan["run"], fanout) << by_plan.dump(2);
  EXPECT_EQ(by_plan["variants"].size(), 3u) << by_plan.dump(2);

  // `tandem variants` alone shows the last fan-out: this one.
  TandemRun last = RunTandem({"variants", "--json"});
  ASSERT_EQ(last.exit_code, 0) << last.Describe();
  EXPECT_EQ(json::parse(last.out, nullptr, false)["variants"].size(), 3u) << last.out;

  // A person prefers v1 after all: picked onto the checkout as it is now.
  TandemRun pick = RunTandem({"pick", fanout + "/1"});
  ASSERT_EQ(pick.exit_code, 0) << pick.Describe();
  EXPECT_EQ(ReadFile("big.txt"), big);
  EXPECT_EQ(ReadFile("out.txt"), "ok\n");
  EXPECT_EQ(ReadFile("t2.txt"), "t2\n");
  EXPECT_EQ(LedgerValue("SELECT applied || ' ' || rank || ' ' || variant FROM picks"), "1 2 1");
  TandemRun undo = RunTandem({"undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(ReadFile("out.txt"), "ok\n");

  // A run that is neither a fan-out nor had one (the pick's): said so.
  std::string pick_run = LedgerValue("SELECT pick_run_id FROM picks");
  TandemRun none = RunTandem({"variants", pick_run});
  EXPECT_EQ(none.exit_code, 2) << none.Describe();
  EXPECT_NE(none.err.find("has no fan-out"), std::string::npos) << none.Describe();
}

// `tandem variants PLANRUN` lists each fan-out of the plan run (one line per
// task's fan-out: its id, winner and counts), and each listed id can be
// followed with `tandem variants ID`.
TEST_F(PlanFanoutTest, VariantsOfAPlanRunListsEveryTasksFanOutWithItsWinnerAndCounts) {
  MakeRepo();
  WriteFile("plan.md", "# Plan: two fan-outs\n\n" +
                           TaskBlock("T1", "Write a.txt", "Write a.txt [fan-a]",
                                     "  - variants: 2\n") +
                           TaskBlock("T2", "Write b.txt", "Write b.txt [fan-b]",
                                     "  - variants: 2\n", "T1") +
                           TaskBlock("T3", "Write c.txt", "Write c.txt [plain-c]", "", "T2"));
  CommitAll("plan");
  std::vector<json> turns;
  // T2: v1 (default temperature) passes, v2 (0.4) always fails its gate.
  for (auto& t : WriteThenFinish("[fan-b]", "b.txt", "b\n")) {
    turns.push_back(AtTemperature(t, "default"));
  }
  turns.push_back(AtTemperature(
      TaskTurn("[fan-b]", kAnyTurn,
               {Call("write_file", {{"path", "out.txt"}, {"content", "BAD\n"}})}),
      0.4));
  // T1: both variants write the same tree (one candidate: v1).
  for (auto& t : WriteThenFinish("[fan-a]", "a.txt", "a\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[plain-c]", "c.txt", "c\n")) turns.push_back(t);
  StartServer(Script(turns), "[limits]\nstep_retries = 0\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("a.txt"), "a\n");
  EXPECT_EQ(ReadFile("b.txt"), "b\n");
  EXPECT_EQ(ReadFile("c.txt"), "c\n");
  std::string id = run.RunId();

  json listed = VariantsJson(id);
  ASSERT_TRUE(listed.is_object()) << listed;
  EXPECT_EQ(listed["run"], id);
  EXPECT_EQ(listed["kind"], "run");
  ASSERT_EQ(listed["fanouts"].size(), 2u) << listed.dump(2);
  const json& t1 = listed["fanouts"][0];
  const json& t2 = listed["fanouts"][1];
  EXPECT_EQ(t1["id"], id + ".T1.1") << listed.dump(2);
  EXPECT_EQ(t1["task"], "T1");
  EXPECT_EQ(t1["attempt"], 1);
  EXPECT_EQ(t1["outcome"], "succeeded");
  EXPECT_EQ(t1["variants"], 2);
  EXPECT_EQ(t1["passed"], 2);
  EXPECT_EQ(t1["winner"], 1);
  EXPECT_EQ(t2["id"], id + ".T2.1") << listed.dump(2);
  EXPECT_EQ(t2["task"], "T2");
  EXPECT_EQ(t2["variants"], 2);
  EXPECT_EQ(t2["passed"], 1);
  EXPECT_EQ(t2["states"]["failed"], 1) << listed.dump(2);
  EXPECT_EQ(t2["winner"], 1);
  // The cost is the fan-out run's, as the ledger summed it.
  EXPECT_NEAR(t2["cost_usd"].get<double>(),
              std::stod(LedgerValue("SELECT cost_usd FROM runs WHERE id = '" + id + ".T2.1'")),
              1e-9);

  // The table: a line per fan-out, in 80 columns, naming the id to follow.
  TandemRun table = RunTandem({"variants", id}, {{"COLUMNS", "80"}});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  int fanout_lines = 0;
  std::istringstream lines(table.out);
  for (std::string line; std::getline(lines, line);) {
    size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 80u) << line;
    if (line.find(id + ".T") != std::string::npos) {
      ++fanout_lines;
      EXPECT_EQ(line.rfind(line.find(".T1.1") != std::string::npos ? "T1 " : "T2 ", 0), 0u)
          << line;
    }
  }
  EXPECT_EQ(fanout_lines, 2) << table.out;
  EXPECT_NE(table.out.find("1/2"), std::string::npos) << table.out;  // T2: 1 of 2 passed

  // Followed: the listed id shows that fan-out's variants.
  json second = VariantsJson(id + ".T2.1");
  ASSERT_EQ(second["variants"].size(), 2u) << second.dump(2);
  EXPECT_EQ(ById(second, 2)["state"], "failed");
}

TEST_F(PlanFanoutTest, ATaskWhoseVariantsAllFailIsEscalatedThenFailsAndBlocksItsDependents) {
  MakeRepo();
  WriteFile("plan.md", "# Plan: hopeless\n\n" +
                           TaskBlock("T1", "Hopeless", "Write out.txt [fan-bad]",
                                     "  - variants: 2\n") +
                           TaskBlock("T2", "Blocked", "Write y.txt [y]", "", "T1") +
                           TaskBlock("T3", "Free", "Write z.txt [free-z]"));
  CommitAll("plan");
  std::vector<json> turns = {ReplanTurn("ESCALATE: needs the slow tier")};
  turns.push_back(TaskTurn("[fan-bad]", kAnyTurn,
                           {Call("write_file", {{"path", "out.txt"}, {"content", "BAD\n"}})}));
  for (auto& t : WriteThenFinish("[free-z]", "z.txt", "z\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json", "--set", "limits.step_retries=0"});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [!] T1: Hopeless"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [ ] T2: Blocked"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T3: Free"), std::string::npos) << plan;
  EXPECT_FALSE(Exists("out.txt"));
  // Escalated twice (the budget), each time fanned out again: three fan-outs
  // of two failed variants each, all listed.
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM escalations WHERE action = 'escalate'"), "2");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM runs WHERE kind = 'fanout' AND outcome = 'failed'"),
            "3");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'failed'"), "6");
  std::string id = run.RunId();
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE run_id = '" + id + "' AND task_id = 'T1'"),
            "failed");
  json listed = VariantsJson(id + ".T1.1");
  ASSERT_TRUE(listed.is_object()) << listed;
  EXPECT_EQ(listed["variants"].size(), 2u) << listed.dump(2);
  EXPECT_EQ(run.Finished().value("outcome", ""), "failed");
  // Nothing left behind: no worktree of the fan-outs.
  EXPECT_EQ(Git("worktree list --porcelain").find("tandem/worktrees"), std::string::npos);
}

}  // namespace
}  // namespace tandem::e2e
