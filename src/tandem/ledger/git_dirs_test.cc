#include "tandem/ledger/git_dirs.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::TempDir;

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(GitCommonDir, ALinkedWorktreeResolvesToTheSharedDirectory) {
  TempDir dir;
  auto common = dir.path() / "repo" / ".git";
  auto linked_git = common / "worktrees" / "wt";
  std::filesystem::create_directories(linked_git);
  std::filesystem::create_directories(dir.path() / "wt");
  Write(dir.path() / "wt" / ".git", "gitdir: " + linked_git.string() + "\n");
  Write(linked_git / "commondir", "../..\n");
  auto found = GitCommonDir(dir.path() / "wt");
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, common.lexically_normal());
}

TEST(LedgerPathFor, AnOrdinaryCheckoutKeepsItsLedgerInTheGitDirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git");
  auto found = LedgerPathFor(dir.path());
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, dir.path() / ".git" / "tandem" / "ledger.db");
  EXPECT_EQ(LedgerPathFor(dir.path() / "nowhere").error().code(), StatusCode::kNotFound);
}

TEST(LedgerPathFor, ALinkedWorktreeSharesTheMainCheckoutsLedger) {
  TempDir dir;
  auto main = dir.path() / "repo";
  auto linked_git = main / ".git" / "worktrees" / "wt";
  std::filesystem::create_directories(linked_git);
  std::filesystem::create_directories(dir.path() / "wt");
  Write(dir.path() / "wt" / ".git", "gitdir: " + linked_git.string() + "\n");
  Write(linked_git / "commondir", "../..\n");
  auto from_linked = LedgerPathFor(dir.path() / "wt");
  auto from_main = LedgerPathFor(main);
  ASSERT_TRUE(from_linked) << from_linked.error().ToString();
  ASSERT_TRUE(from_main) << from_main.error().ToString();
  EXPECT_EQ(*from_linked, *from_main);
  EXPECT_EQ(*from_main, main / ".git" / "tandem" / "ledger.db");
  // Before the move, both used the main checkout's .tandem/ledger.db.
  EXPECT_EQ(*LegacyLedgerPathFor(dir.path() / "wt"), main / ".tandem" / "ledger.db");
  EXPECT_EQ(*LegacyLedgerPathFor(main), main / ".tandem" / "ledger.db");
}

TEST(LedgerPathFor, ALinkedWorktreeOfABareRepositoryUsesTheCommonDirectory) {
  TempDir dir;
  auto bare = dir.path() / "repo.git";
  auto linked_git = bare / "worktrees" / "wt";
  std::filesystem::create_directories(linked_git);
  std::filesystem::create_directories(dir.path() / "wt");
  Write(dir.path() / "wt" / ".git", "gitdir: " + linked_git.string() + "\n");
  Write(linked_git / "commondir", "../..\n");
  auto found = LedgerPathFor(dir.path() / "wt");
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, bare / "tandem" / "ledger.db");
  EXPECT_EQ(LegacyLedgerPathFor(dir.path() / "wt").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tandem::ledger
