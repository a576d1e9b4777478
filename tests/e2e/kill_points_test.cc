// Kills at exact points inside tandem (TANDEM_TEST_KILL_POINT,
// src/tandem/base/kill_point.h), then the command that recovers: the
// focused cases the crash matrix (crash_matrix_test.cc) found.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class KillPointsTest : public E2eTest {};

// Killed after the planner's split was merged into plan.md (T1 skipped,
// T1a and T1b added) but before the ledger recorded it: resume must not
// leave T1 'running' in the ledger forever.
TEST_F(KillPointsTest, KilledBetweenAReplanAndItsLedgerRowResumesWithTheTaskSkipped) {
  MakePassingRepo();
  WriteVerifyMd({{"check", "sh check.sh"}, {"nobad", "! grep -rq bad --include=*.txt ."}});
  WriteFile("plan.md", "# Plan: split\n\n" + TaskBlock("T1", "Too big", "Write big.txt [big]") +
                           TaskBlock("T2", "Then", "Write then.txt [then]", "", "T1"));
  CommitAll("plan");
  std::vector<json> turns = {ReplanTurn("SPLIT: two smaller steps\n\n" +
                                        TaskBlock("T1a", "Half A", "Write a.txt [part-a]") +
                                        TaskBlock("T1b", "Half B", "Write b.txt [part-b]", "",
                                                  "T1a"))};
  for (auto& t : WriteThenFinish("[part-a]", "a.txt", "a\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[part-b]", "b.txt", "b\n")) turns.push_back(t);
  for (auto& t : WriteThenFinish("[then]", "then.txt", "then\n")) turns.push_back(t);
  turns.push_back(TaskTurn("[big]", kAnyTurn,
                           {Call("write_file", {{"path", "big.txt"}, {"content", "bad\n"}})}));
  StartServer(Script(turns), "\n[limits]\nstep_retries = 1\n");

  TandemRun killed =
      RunTandem({"run", "--json"}, {{"TANDEM_TEST_KILL_POINT", "plan_edit_written:1"}});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();
  ASSERT_NE(ReadFile("plan.md").find("- [-] T1: Too big"), std::string::npos);

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_EQ(LedgerValue("SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT * FROM "
                        "tasks ORDER BY task_id)"),
            "T1:skipped T1a:done T1b:done T2:done");
  EXPECT_EQ(ReadFile("then.txt"), "then\n");
}

}  // namespace
}  // namespace tandem::e2e
