// The verified loop end to end: success, rollback and retry, the retry
// budget, and a finish claim that tandem's gates contradict.
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

const char kRightEdit[] = "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'";
const char kWrongEdit[] = "tr ' ' '_' # WRONG-ATTEMPT";

json EditSlugify(const std::string& new_text) {
  return Call("edit_file",
              {{"path", "slugify.sh"}, {"old_text", "tr ' ' '-'"}, {"new_text", new_text}});
}

class LoopTest : public E2eTest {};

TEST_F(LoopTest, SuccessPathEditsTheFilePassesGatesAndExitsZero) {
  MakeSlugifyRepo();
  std::string head = Git("rev-parse HEAD");
  StartServer(Script({
      Turn(0, {Call("read_file", {{"path", "slugify.sh"}})}, "Reading."),
      Turn(1, {EditSlugify(kRightEdit)}),
      Finish(2, "slugify lowercases now"),
  }));

  TandemRun run = Do("make test.sh pass");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(ReadFile("slugify.sh").find(kRightEdit), std::string::npos);
  EXPECT_EQ(run.Finished().value("outcome", ""), "succeeded");
  EXPECT_EQ(run.Finished().value("summary", ""), "slugify lowercases now");
  EXPECT_TRUE(run.Events("step_rolled_back").empty());
  bool passed = false;
  for (const auto& g : run.Events("gate_finished")) passed |= g.value("verdict", "") == "pass";
  EXPECT_TRUE(passed) << run.Describe();
  EXPECT_EQ(Requests().size(), 3u);
  // The task's edit is left in the working tree for the user: HEAD and the
  // index are untouched.
  EXPECT_EQ(Git("rev-parse HEAD"), head);
  EXPECT_EQ(Git("status --porcelain"), " M slugify.sh\n");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE id = '" + run.RunId() + "'"), "succeeded");
}

TEST_F(LoopTest, FailingGateRollsBackAndTheRetrySucceeds) {
  MakeSlugifyRepo();
  StartServer(Script({
      Turn(0, {EditSlugify(kWrongEdit)}),
      Turn(1, {EditSlugify(kRightEdit)}),
      Finish(2),
  }));

  TandemRun run = Do("make test.sh pass");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string final_text = ReadFile("slugify.sh");
  EXPECT_EQ(final_text.find("WRONG-ATTEMPT"), std::string::npos);
  EXPECT_NE(final_text.find(kRightEdit), std::string::npos);
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_NE(rolled[0].value("reason", "").find("gate 'test'"), std::string::npos);
  EXPECT_EQ(run.Finished().value("retries", -1), 1);
  // The model saw the failure: the gate's output and the rollback.
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  std::string second = requests[1]["body"].dump();
  EXPECT_NE(second.find("FAILED: slugify"), std::string::npos) << second;
  EXPECT_NE(second.find("rolled back"), std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM rollbacks"), "1");
}

TEST_F(LoopTest, SpentRetryBudgetFailsTheTaskAndKeepsTheBestAttemptOnARef) {
  MakeSlugifyRepo();
  // Every turn repeats the same wrong edit; the rollback makes it apply again.
  StartServer(Script({Turn(kAnyTurn, {EditSlugify(kWrongEdit)})}));

  TandemRun run = Do("make test.sh pass", {"--set", "limits.step_retries=1"});

  ASSERT_EQ(run.exit_code, 1) << run.Describe();
  json finished = run.Finished();
  EXPECT_EQ(finished.value("outcome", ""), "failed");
  EXPECT_NE(finished.value("summary", "").find("retry budget"), std::string::npos);
  EXPECT_EQ(run.Events("step_rolled_back").size(), 2u);
  // The tree is as before the failed step; the attempt lives on a ref.
  EXPECT_EQ(ReadFile("slugify.sh").find("WRONG-ATTEMPT"), std::string::npos);
  std::string ref = "refs/tandem/best/" + run.RunId();
  EXPECT_EQ(finished.value("best_attempt_ref", ""), ref);
  bool ok = false;
  Git("rev-parse --verify " + ref, &ok);
  ASSERT_TRUE(ok) << ref << " missing";
  EXPECT_NE(Git("show " + ref + ":slugify.sh").find("WRONG-ATTEMPT"), std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "failed");
}

TEST_F(LoopTest, FinishClaimWhileAGateFailsIsReportedAsFailure) {
  MakeSlugifyRepo();
  // The model edits nothing and claims success every time it is asked.
  StartServer(Script({Finish(kAnyTurn, "All done, tests pass!")}));

  TandemRun run = Do("make test.sh pass", {"--set", "limits.step_retries=1"});

  ASSERT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "failed");
  EXPECT_NE(run.Finished().value("summary", "").find("reported success"), std::string::npos)
      << run.Describe();
  EXPECT_TRUE(run.HasNotice("finish rejected")) << run.Describe();
  // The rejected claim went back to the model with the gate's output.
  ASSERT_GE(Requests().size(), 2u);
  EXPECT_NE(Requests()[1]["body"].dump().find("FAILED: slugify"), std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "failed");
}

TEST_F(LoopTest, TextOnlyDoneClaimWhileAGateFailsIsReportedAsFailure) {
  MakeSlugifyRepo();
  StartServer(Script({Turn(kAnyTurn, {}, "I fixed it. Everything passes.")}));

  TandemRun run = Do("make test.sh pass", {"--set", "limits.step_retries=0"});

  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "failed");
}


// inotify cannot see a write through a hard link whose name lies in an
// unwatched directory (exempt build output). The linked file is re-stat'ed
// at every unknown capture, so the task's last checkpoint (what undo and the
// gate cache see) still has it.
TEST_F(LoopTest, AWriteThroughAHardLinkInAnUnwatchedDirectoryIsNotMissed) {
  MakePassingRepo();
  WriteFile(".gitignore", "build/\n");
  WriteFile("notes.txt", "original\n");
  CommitAll("notes");
  StartServer(Script({
      Turn(0, {Call("run_command", {{"command", "mkdir -p build && ln notes.txt build/link.txt"}})}),
      Turn(1, {Call("run_command", {{"command", "echo through-the-link >> build/link.txt"}})}),
      Finish(2, "noted"),
  }));

  TandemRun run = Do("append a note");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_EQ(ReadFile("notes.txt"), "original\nthrough-the-link\n");
  std::string refs = Git("for-each-ref --format='%(refname)' refs/tandem/runs/" + run.RunId() + "/");
  int last = -1;
  std::istringstream lines(refs);
  for (std::string ref; std::getline(lines, ref);) {
    last = std::max(last, std::stoi(ref.substr(ref.rfind('/') + 1)));
  }
  ASSERT_GE(last, 0) << refs;
  EXPECT_EQ(Git("show refs/tandem/runs/" + run.RunId() + "/" + std::to_string(last) + ":notes.txt"),
            "original\nthrough-the-link\n");
}

}  // namespace
}  // namespace tandem::e2e
