// `tandem undo` through the real binary: after `tandem run` (whose own final
// writes to plan.md and progress.md are part of the run), and a second undo
// that says what was undone and how to undo an earlier run.
#include <gtest/gtest.h>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

class UndoTest : public E2eTest {};

TEST_F(UndoTest, UndoAfterRunRestoresTheTreeAndPlanFromBeforeTheRun) {
  MakePassingRepo();
  std::string plan = "# Plan: One file\n\n" +
                     TaskBlock("T1", "Create alpha", "Write alpha.txt [alpha]",
                               "  - accept: gates all; check `test -f alpha.txt`\n");
  WriteFile("plan.md", plan);
  StartServer(Script(WriteThenFinish("[alpha]", "alpha.txt", "alpha\n")));
  TandemRun run = RunTandem({"run"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_EQ(ReadFile("alpha.txt"), "alpha\n");
  ASSERT_NE(ReadFile("plan.md").find("- [x] T1"), std::string::npos);
  // The run's last line recommends undo.
  ASSERT_NE(run.out.find("tandem undo"), std::string::npos) << run.Describe();

  TandemRun undo = RunTandem({"undo"});

  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_FALSE(Exists("alpha.txt"));
  EXPECT_EQ(ReadFile("plan.md"), plan);
}

TEST_F(UndoTest, ASecondUndoSaysTheRunIsUndoneAndHowToUndoAnEarlierOne) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "one.txt"}, {"content", "1\n"}})}),
                      Finish(1)}));
  TandemRun first = Do("write one");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "two.txt"}, {"content", "2\n"}})}),
                      Finish(1)}));
  TandemRun second = Do("write two");
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  ASSERT_TRUE(Exists("two.txt"));
  TandemRun undo = RunTandem({"undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  ASSERT_FALSE(Exists("two.txt"));
  ASSERT_TRUE(Exists("one.txt"));

  TandemRun again = RunTandem({"undo"});

  std::string all = again.out + again.err;
  EXPECT_NE(again.exit_code, 0) << again.Describe();
  EXPECT_NE(all.find("run " + second.RunId() + " was already undone"), std::string::npos)
      << again.Describe();
  EXPECT_NE(all.find("tandem undo " + first.RunId()), std::string::npos) << again.Describe();
  EXPECT_EQ(all.find("cannot undo run " + second.RunId() + ": cannot undo"), std::string::npos)
      << again.Describe();
  EXPECT_TRUE(Exists("one.txt"));  // nothing touched

  TandemRun earlier = RunTandem({"undo", first.RunId()});
  ASSERT_EQ(earlier.exit_code, 0) << earlier.Describe();
  EXPECT_FALSE(Exists("one.txt"));
}

}  // namespace
}  // namespace tandem::e2e
