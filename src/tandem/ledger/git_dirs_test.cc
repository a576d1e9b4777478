#include "tandem/ledger/git_dirs.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::ReadFile;
using testing::TempDir;

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(KeepStateOutOfGitStatus, AppendsOnceAndKeepsTheUsersLinesByteForByte) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git" / "info");
  auto exclude = dir.path() / ".git" / "info" / "exclude";
  Write(exclude, "# mine\n*.log\nbuild");  // no final newline
  ASSERT_TRUE(KeepStateOutOfGitStatus(dir.path()).ok());
  ASSERT_TRUE(KeepStateOutOfGitStatus(dir.path()).ok());
  EXPECT_EQ(ReadFile(exclude), std::string("# mine\n*.log\nbuild\n") + kExcludeLines);
}

TEST(KeepStateOutOfGitStatus, LeavesAnExistingIgnoreOfTheStateDirectoryAlone) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git" / "info");
  auto exclude = dir.path() / ".git" / "info" / "exclude";
  Write(exclude, ".tandem/\n");
  ASSERT_TRUE(KeepStateOutOfGitStatus(dir.path()).ok());
  EXPECT_EQ(ReadFile(exclude), ".tandem/\n");
}

TEST(KeepStateOutOfGitStatus, CreatesTheInfoDirectoryWhenMissing) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git");
  ASSERT_TRUE(KeepStateOutOfGitStatus(dir.path()).ok());
  EXPECT_EQ(ReadFile(dir.path() / ".git" / "info" / "exclude"), kExcludeLines);
  EXPECT_EQ(KeepStateOutOfGitStatus(dir.path() / "nowhere").code(), StatusCode::kNotFound);
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

TEST(LedgerPathFor, AnOrdinaryCheckoutKeepsItsLedgerWhereItWas) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git");
  auto found = LedgerPathFor(dir.path());
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, dir.path() / ".tandem" / "ledger.db");
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
  EXPECT_EQ(*from_main, main / ".tandem" / "ledger.db");
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
}

}  // namespace
}  // namespace tandem::ledger
