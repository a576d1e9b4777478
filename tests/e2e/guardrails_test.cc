// Guardrails enforced by tandem, not by the prompt: paths that escape the
// workspace, writes into .git, deletions, diff caps, path scopes and
// refused commands. Each scenario lets the model try, then finish; the run
// still succeeds (exit 0) because the gate passes, and the attempt left no
// trace.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class GuardrailTest : public E2eTest {
 protected:
  // Runs a task whose first turn makes `calls` and whose second finishes.
  TandemRun TryOnce(std::vector<json> calls, const std::vector<std::string>& extra = {}) {
    StartServer(Script({Turn(0, std::move(calls)), Finish(1, "done")}));
    return Do("try it", extra);
  }

  static bool AnyContains(const std::vector<std::string>& texts, const std::string& needle) {
    for (const auto& t : texts) {
      if (t.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<std::string> ToolOutcomes(const TandemRun& run) {
    std::vector<std::string> outcomes;
    for (const auto& e : run.Events("tool_finished")) outcomes.push_back(e.value("outcome", ""));
    return outcomes;
  }
};

TEST_F(GuardrailTest, DotDotPathOutsideTheWorkspaceIsRefused) {
  MakePassingRepo();
  std::ofstream(OutsidePath("outside.txt")) << "original\n";

  TandemRun run = TryOnce({Call("write_file", {{"path", "../outside.txt"}, {"content", "pwned"}}),
                           Call("read_file", {{"path", "../outside.txt"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ToolOutcomes(run), (std::vector<std::string>{"refused", "refused", "ok"}));
  EXPECT_EQ(Slurp(OutsidePath("outside.txt")), "original\n");
  EXPECT_FALSE(AnyContains(LastRequestToolResults(), "original"));
}

TEST_F(GuardrailTest, AbsolutePathIsRefused) {
  MakePassingRepo();
  std::string target = OutsidePath("absolute.txt");

  TandemRun run = TryOnce({Call("write_file", {{"path", target}, {"content", "pwned"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ToolOutcomes(run).front(), "refused");
  EXPECT_FALSE(std::ifstream(target).good()) << target << " was created";
}

TEST_F(GuardrailTest, SymlinksLeadingOutsideAreRefused) {
  MakePassingRepo();
  std::ofstream(OutsidePath("secret.txt")) << "top secret\n";
  ASSERT_EQ(::symlink(OutsidePath("").c_str(), (root() + "/escape").c_str()), 0);
  ASSERT_EQ(::symlink(OutsidePath("secret.txt").c_str(), (root() + "/innocent.txt").c_str()), 0);
  CommitAll("links");

  TandemRun run = TryOnce({
      Call("write_file", {{"path", "escape/new.txt"}, {"content", "pwned"}}),
      Call("write_file", {{"path", "innocent.txt"}, {"content", "pwned"}}),
      Call("read_file", {{"path", "escape/secret.txt"}}),
  });

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ToolOutcomes(run), (std::vector<std::string>{"refused", "refused", "refused", "ok"}));
  EXPECT_FALSE(std::ifstream(OutsidePath("new.txt")).good());
  EXPECT_EQ(Slurp(OutsidePath("secret.txt")), "top secret\n");
  EXPECT_FALSE(AnyContains(LastRequestToolResults(), "top secret"));
}

TEST_F(GuardrailTest, WriteIntoDotGitIsRefused) {
  MakePassingRepo();
  std::string config_before = ReadFile(".git/config");

  TandemRun run = TryOnce({
      Call("write_file", {{"path", ".git/hooks/pre-commit"}, {"content", "#!/bin/sh\nexit 0\n"}}),
      Call("edit_file", {{"path", ".git/config"}, {"old_text", "[core]"}, {"new_text", "[x]"}}),
  });

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ToolOutcomes(run), (std::vector<std::string>{"refused", "refused", "ok"}));
  EXPECT_FALSE(Exists(".git/hooks/pre-commit"));
  EXPECT_EQ(ReadFile(".git/config"), config_before);
}

TEST_F(GuardrailTest, CommandThatDeletesATrackedFileIsRolledBack) {
  MakePassingRepo();

  TandemRun run = TryOnce({Call("run_command", {{"command", "rm tracked.txt"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_NE(rolled[0].value("reason", "").find("deleting files is not allowed"), std::string::npos)
      << rolled[0].dump();
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\n");
  EXPECT_EQ(Git("status --porcelain"), "");
  EXPECT_TRUE(AnyContains(LastRequestToolResults(), "deleting files is not allowed"));
}

TEST_F(GuardrailTest, CommandThatDeletesIgnoredUserDataIsRolledBack) {
  MakePassingRepo();
  WriteFile(".gitignore", ".env\n*.sqlite\nbuild/\n");
  CommitAll("ignore");
  std::string db("SQLite format 3\0\x01\x02\xff binary", 28);
  WriteFile(".env", "API_TOKEN=local-only\n");
  WriteFile("app.sqlite", db);
  WriteFile("build/out.o", "reproducible\n");

  TandemRun run =
      TryOnce({Call("run_command", {{"command", "rm -rf .env app.sqlite build"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_NE(rolled[0].value("reason", "").find("deleting files is not allowed"), std::string::npos)
      << rolled[0].dump();
  EXPECT_EQ(ReadFile(".env"), "API_TOKEN=local-only\n");
  EXPECT_TRUE(ReadFile("app.sqlite") == db);
  EXPECT_FALSE(Exists("build/out.o"));  // build output is exempt: not restored
  EXPECT_EQ(Git("status --porcelain"), "");
}

TEST_F(GuardrailTest, UndoRestoresIgnoredFilesAStepOverwrote) {
  MakePassingRepo();
  WriteFile(".gitignore", "data/\n");
  CommitAll("ignore");
  WriteFile("data/app.sqlite", "the user's rows\n");

  TandemRun run = TryOnce(
      {Call("run_command", {{"command", "echo clobbered > data/app.sqlite"}})});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_EQ(ReadFile("data/app.sqlite"), "clobbered\n");

  TandemRun undo = RunTandem({"undo"});

  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_EQ(ReadFile("data/app.sqlite"), "the user's rows\n");
}

// Git trees hold no empty directory; tandem records them beside its
// checkpoints, so removing one is undone like removing a file.
TEST_F(GuardrailTest, CommandThatRemovesEmptyDirectoriesIsRolledBackWithThem) {
  MakePassingRepo();
  std::filesystem::create_directories(root() + "/spool");
  std::filesystem::create_directories(root() + "/cache/a/b");

  TandemRun run = TryOnce(
      {Call("run_command", {{"command", "rmdir spool && rm -r cache && rm tracked.txt"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_EQ(run.Events("step_rolled_back").size(), 1u) << run.Describe();
  EXPECT_TRUE(std::filesystem::is_directory(root() + "/spool")) << run.Describe();
  EXPECT_TRUE(std::filesystem::is_directory(root() + "/cache/a/b"));
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\n");
}

TEST_F(GuardrailTest, UndoRestoresAnEmptyDirectoryAStepRemoved) {
  MakePassingRepo();
  std::filesystem::create_directories(root() + "/spool");

  TandemRun run = TryOnce({Call("run_command", {{"command", "rmdir spool && mkdir made"}})});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_FALSE(Exists("spool"));

  TandemRun undo = RunTandem({"undo"});

  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_TRUE(std::filesystem::is_directory(root() + "/spool"));
  EXPECT_FALSE(Exists("made"));
  // It says so.
  EXPECT_NE(undo.out.find("0 files and 2 empty directories restored"), std::string::npos)
      << undo.out;
  EXPECT_NE(undo.out.find("  made spool/\n"), std::string::npos) << undo.out;
  EXPECT_NE(undo.out.find("  removed made/\n"), std::string::npos) << undo.out;
}

TEST_F(GuardrailTest, StepOverTheLineCapIsRolledBack) {
  MakePassingRepo();
  std::string big;
  for (int i = 0; i < 50; ++i) big += "line " + std::to_string(i) + "\n";

  TandemRun run = TryOnce({Call("write_file", {{"path", "big.txt"}, {"content", big}})},
                          {"--set", "guardrails.max_lines_per_step=5"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_NE(rolled[0].value("reason", "").find("diff cap"), std::string::npos) << rolled[0].dump();
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
}

TEST_F(GuardrailTest, EditOutsideTheScopeIsRolledBackWhileOneInsideIsKept) {
  WriteFile("src/a.txt", "a\n");
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {Call("edit_file", {{"path", "src/a.txt"}, {"old_text", "a"}, {"new_text", "A"}})}),
      Turn(1, {Call("edit_file",
                    {{"path", "README.md"}, {"old_text", "sample"}, {"new_text", "hacked"}})}),
      Finish(2),
  }));

  TandemRun run = Do("edit src", {"--scope", "src/*"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_EQ(rolled[0].value("step", 0), 2);
  EXPECT_NE(rolled[0].value("reason", "").find("outside the task's scope"), std::string::npos);
  EXPECT_EQ(ReadFile("README.md"), "# sample\n");
  EXPECT_EQ(ReadFile("src/a.txt"), "A\n");
}

TEST_F(GuardrailTest, RefusedCommandIsNotRunAndTheRefusalReachesTheModel) {
  MakePassingRepo();
  bool ok = false;
  Git("remote add origin " + OutsidePath("remote.git"), &ok);
  ASSERT_TRUE(ok);

  TandemRun run = TryOnce({Call("run_command", {{"command", "git push origin main"}})});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ToolOutcomes(run).front(), "refused");
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("run_command refused"), std::string::npos) << results[0];
  EXPECT_NE(results[0].find("push"), std::string::npos) << results[0];
  EXPECT_EQ(LedgerValue("SELECT outcome FROM tool_calls WHERE name = 'run_command'"), "refused");
}

}  // namespace
}  // namespace tandem::e2e
