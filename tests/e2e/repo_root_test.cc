// One composition root: the repository is found once, from the start
// directory or `-C DIR`, and every path comes from it; the ledger is one per
// repository, shared by its linked worktrees (issue 9).
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char kRightEdit[] = "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'";

json FixSlugifyScript() {
  return Script({
      Turn(0, {Call("edit_file", {{"path", "slugify.sh"},
                                  {"old_text", "tr ' ' '-'"},
                                  {"new_text", kRightEdit}})}),
      Turn(1, {Call("write_file", {{"path", "notes/fixed.txt"}, {"content", "fixed\n"}})}),
      Finish(2, "fixed"),
  });
}

class RepoRootTest : public E2eTest {};

TEST_F(RepoRootTest, DoFromASubdirectoryWorksOnTheRepositoryRoot) {
  MakeSlugifyRepo();
  StartServer(FixSlugifyScript());
  fs::create_directories(root() + "/deep/sub");
  SetTandemCwd(root() + "/deep/sub");

  TandemRun run = Do("make test.sh pass");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // Tool paths, gates (test.sh runs from the root) and the ledger are the
  // repository's, not the start directory's.
  EXPECT_NE(ReadFile("slugify.sh").find(kRightEdit), std::string::npos);
  EXPECT_EQ(ReadFile("notes/fixed.txt"), "fixed\n");
  EXPECT_FALSE(Exists("deep/sub/notes"));
  EXPECT_FALSE(Exists("deep/sub/.tandem"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE id = '" + run.RunId() + "'"), "succeeded");
}

TEST_F(RepoRootTest, DashCFromOutsideTheRepositoryWorksOnIt) {
  MakeSlugifyRepo();
  StartServer(FixSlugifyScript());
  std::string outside = OutsidePath("elsewhere");
  fs::create_directories(outside);
  SetTandemCwd(outside);

  TandemRun run = RunTandem({"-C", root() + "/", "do", "--json", "make test.sh pass"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(ReadFile("slugify.sh").find(kRightEdit), std::string::npos);
  EXPECT_EQ(ReadFile("notes/fixed.txt"), "fixed\n");
  EXPECT_FALSE(fs::exists(outside + "/notes"));
  EXPECT_FALSE(fs::exists(outside + "/.tandem"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE id = '" + run.RunId() + "'"), "succeeded");

  // A relative -C is taken from the start directory.
  SetTandemCwd(OutsidePath(""));
  TandemRun stats = RunTandem({"-C", "repo", "stats", "--json", "--all"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  EXPECT_EQ(json::parse(stats.out)["runs"].value("total_all_kinds", -1), 1) << stats.out;
}

TEST_F(RepoRootTest, WithoutARepositoryOrWithABadDashCItSaysSo) {
  std::string outside = OutsidePath("plain");
  fs::create_directories(outside);
  SetTandemCwd(outside);

  TandemRun status = RunTandem({"status"});
  EXPECT_EQ(status.exit_code, 2) << status.Describe();
  EXPECT_NE(status.err.find("not inside a git repository"), std::string::npos) << status.err;

  TandemRun missing = RunTandem({"-C", outside + "/nope", "status"});
  EXPECT_EQ(missing.exit_code, 2) << missing.Describe();
  EXPECT_NE(missing.err.find("not a directory"), std::string::npos) << missing.err;
}

TEST_F(RepoRootTest, ALinkedWorktreeSharesTheMainCheckoutsLedger) {
  MakeSlugifyRepo();
  StartServer(FixSlugifyScript());
  TandemRun first = Do("make test.sh pass");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();

  std::string linked = OutsidePath("linked");
  Git("worktree add -q --detach " + linked);
  fs::create_directories(linked + "/sub");
  SetTandemCwd(linked + "/sub");

  // Reads from the linked worktree see the main checkout's run.
  TandemRun stats = RunTandem({"stats", "--json", "--all"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json report = json::parse(stats.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << stats.out;
  EXPECT_EQ(report["runs"].value("total_all_kinds", -1), 1) << stats.out;

  // A run made in the linked worktree edits that worktree and is recorded
  // in the same ledger; the worktree gets no ledger of its own.
  TandemRun second = Do("make test.sh pass");
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_NE(Slurp(linked + "/slugify.sh").find(kRightEdit), std::string::npos);
  EXPECT_EQ(Slurp(linked + "/notes/fixed.txt"), "fixed\n");
  EXPECT_FALSE(fs::exists(linked + "/.tandem/ledger.db"));
  EXPECT_EQ(LedgerValue("SELECT COUNT(*) FROM runs"), "2");
  EXPECT_EQ(LedgerValue("SELECT repo FROM runs WHERE id = '" + second.RunId() + "'"),
            fs::path(linked).lexically_normal().string());

  // And the main checkout's reads see the linked worktree's run.
  SetTandemCwd("");
  TandemRun main_stats = RunTandem({"stats", "--json", "--all"});
  ASSERT_EQ(main_stats.exit_code, 0) << main_stats.Describe();
  EXPECT_EQ(json::parse(main_stats.out)["runs"].value("total_all_kinds", -1), 2) << main_stats.out;
}

TEST_F(RepoRootTest, AStepKilledInTheMainCheckoutIsRestoredThereNotInALinkedWorktree) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  std::string linked = OutsidePath("linked");
  Git("worktree add -q --detach " + linked);
  TandemProcess process = SpawnTandem({"do", "--json", "slow work"});
  ASSERT_TRUE(WaitForFile("started.marker", std::chrono::seconds(30)));
  ::kill(process.pid, SIGKILL);
  ASSERT_EQ(WaitTandem(process).term_signal, SIGKILL);
  ASSERT_TRUE(Exists("partial.txt"));
  // The person's own work in the linked worktree.
  std::ofstream(linked + "/mine.txt") << "mine\n";
  std::ofstream(linked + "/tracked.txt", std::ios::trunc) << "edited in linked\n";

  // The next writing command, started in the linked worktree, recovers the
  // killed step (any command does; this undo names no real run).
  SetTandemCwd(linked);
  TandemRun undo = RunTandem({"undo", "no-such-run"});
  EXPECT_NE(undo.out.find("restored run"), std::string::npos) << undo.Describe();

  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("partial.txt"));
  EXPECT_FALSE(Exists("started.marker"));
  EXPECT_EQ(Slurp(linked + "/mine.txt"), "mine\n");
  EXPECT_EQ(Slurp(linked + "/tracked.txt"), "edited in linked\n");
  EXPECT_FALSE(fs::exists(linked + "/kept.txt"));
}

}  // namespace
}  // namespace tandem::e2e
