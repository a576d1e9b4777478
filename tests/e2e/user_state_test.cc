// The user's own state: uncommitted changes and the staged index survive a
// run (even one with a rollback), touched only by the task's own edits; and
// `tandem undo` restores the tree as it was before a run, refusing when the
// user changed the run's files since.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class UserStateTest : public E2eTest {};

TEST_F(UserStateTest, UncommittedChangesAndTheIndexSurviveARunWithARollback) {
  WriteFile("user.txt", "base\n");
  WriteFile("staged.txt", "s0\n");
  WriteFile("task.txt", "t0\n");
  MakePassingRepo();
  WriteFile("check.sh", "#!/bin/sh\n! grep -q BAD user.txt task.txt\n");
  CommitAll("gate");
  // The user's work in progress: an unstaged edit, a partly staged file and
  // an untracked one.
  WriteFile("user.txt", "base\nuser edit\n");
  WriteFile("staged.txt", "s1\n");
  Git("add staged.txt");
  WriteFile("staged.txt", "s2\n");
  WriteFile("notes.txt", "mine\n");
  std::string head = Git("rev-parse HEAD");
  std::string cached_before = Git("diff --cached");
  std::string user_diff_before = Git("diff -- user.txt staged.txt");

  StartServer(Script({
      // Breaks the gate in the user's file: rolled back to the user's version.
      Turn(0, {Call("edit_file",
                    {{"path", "user.txt"}, {"old_text", "user edit"}, {"new_text", "user BAD"}})}),
      Turn(1, {Call("edit_file", {{"path", "task.txt"}, {"old_text", "t0"}, {"new_text", "t1"}})}),
      Finish(2),
  }));

  TandemRun run = Do("change task.txt");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.Events("step_rolled_back").size(), 1u);
  EXPECT_EQ(Git("diff --cached"), cached_before);
  EXPECT_EQ(Git("diff -- user.txt staged.txt"), user_diff_before);
  EXPECT_EQ(ReadFile("user.txt"), "base\nuser edit\n");
  EXPECT_EQ(ReadFile("staged.txt"), "s2\n");
  EXPECT_EQ(ReadFile("notes.txt"), "mine\n");
  EXPECT_EQ(ReadFile("task.txt"), "t1\n");
  EXPECT_EQ(Git("rev-parse HEAD"), head);
  EXPECT_EQ(Git("stash list"), "");
  EXPECT_EQ(Git("status --porcelain"), "MM staged.txt\n M task.txt\n M user.txt\n?? notes.txt\n");
}

TEST_F(UserStateTest, UndoRestoresTheTreeAsItWasBeforeTheRun) {
  MakeSlugifyRepo();
  std::string original = ReadFile("slugify.sh");
  WriteFile("notes.txt", "uncommitted before the run\n");
  StartServer(Script({
      Turn(0, {Call("edit_file", {{"path", "slugify.sh"},
                                  {"old_text", "tr ' ' '-'"},
                                  {"new_text", "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'"}}),
               Call("write_file", {{"path", "NEWS.md"}, {"content", "slugs are lower case\n"}})}),
      Finish(1),
  }));
  TandemRun run = Do("fix slugify");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_NE(ReadFile("slugify.sh"), original);

  TandemRun undo = RunTandem({"undo"});

  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_NE(undo.out.find(run.RunId()), std::string::npos) << undo.out;
  EXPECT_NE(undo.out.find("slugify.sh"), std::string::npos) << undo.out;
  EXPECT_EQ(ReadFile("slugify.sh"), original);
  EXPECT_FALSE(Exists("NEWS.md"));
  EXPECT_EQ(ReadFile("notes.txt"), "uncommitted before the run\n");
  EXPECT_EQ(Git("status --porcelain"), "?? notes.txt\n");
}

TEST_F(UserStateTest, UndoRefusesWhenTheUserEditedTheRunsFileSince) {
  MakeSlugifyRepo();
  StartServer(Script({
      Turn(0, {Call("edit_file", {{"path", "slugify.sh"},
                                  {"old_text", "tr ' ' '-'"},
                                  {"new_text", "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'"}})}),
      Finish(1),
  }));
  TandemRun run = Do("fix slugify");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string mine = ReadFile("slugify.sh") + "# the user's own line\n";
  WriteFile("slugify.sh", mine);

  TandemRun undo = RunTandem({"undo"});

  EXPECT_NE(undo.exit_code, 0) << undo.Describe();
  EXPECT_NE(undo.err.find("slugify.sh"), std::string::npos) << undo.Describe();
  EXPECT_EQ(ReadFile("slugify.sh"), mine);
}

}  // namespace
}  // namespace tandem::e2e
