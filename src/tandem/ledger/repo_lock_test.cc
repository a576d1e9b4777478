#include "tandem/ledger/repo_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::TempDir;

LockHolder Me(const std::string& command) {
  return LockHolder{ProcessIdentity::Current(), command, 1'700'000'000'000};
}

TEST(RepoLock, ASecondWriterIsRefusedAndCanNameTheHolder) {
  TempDir dir;
  auto path = dir.path() / "tandem" / "writer.lock";
  auto first = RepoLock::Acquire(path, Me("tandem run"));
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_FALSE(first->previous());

  // Another open of the same file, as another process would make: refused.
  auto second = RepoLock::Acquire(path, Me("tandem do"));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), StatusCode::kAlreadyExists);
  auto holder = RepoLock::ReadHolder(path);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->process, ProcessIdentity::Current());
  EXPECT_EQ(holder->command, "tandem run");
  EXPECT_EQ(holder->started_at_ms, 1'700'000'000'000);
}

TEST(RepoLock, ReleasingLetsTheNextWriterInWithNothingToReport) {
  TempDir dir;
  auto path = dir.path() / "writer.lock";
  { auto first = RepoLock::Acquire(path, Me("tandem undo"));
    ASSERT_TRUE(first); }
  EXPECT_FALSE(RepoLock::ReadHolder(path));
  auto next = RepoLock::Acquire(path, Me("tandem run"));
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_FALSE(next->previous()) << "a clean release left a record behind";
}

TEST(RepoLock, AKilledHoldersLockIsTakenOverAndItsRecordReported) {
  TempDir dir;
  auto path = dir.path() / "writer.lock";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = RepoLock::Acquire(path, LockHolder{ProcessIdentity::Current(), "tandem run", 7});
    char byte = held ? 1 : 0;
    [[maybe_unused]] auto n = ::write(ready[1], &byte, 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(byte, 1) << "the child could not take the lock";

  EXPECT_FALSE(RepoLock::Acquire(path, Me("tandem do")));
  auto holder = RepoLock::ReadHolder(path);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->process.pid, child);

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_FALSE(RepoLock::ReadHolder(path)) << "a dead process named as the holder";
  auto taken = RepoLock::Acquire(path, Me("tandem resume"));
  ASSERT_TRUE(taken) << taken.error().ToString();
  ASSERT_TRUE(taken->previous());
  EXPECT_EQ(taken->previous()->process.pid, child);
  EXPECT_EQ(taken->previous()->command, "tandem run");
}

TEST(RepoLock, LinkedWorktreesShareTheCommonDirectorysLock) {
  TempDir dir;
  std::string main = (dir.path() / "main").string();
  std::string linked = (dir.path() / "linked").string();
  std::string script = "set -e; git init -q '" + main + "'; cd '" + main +
                       "'; git -c user.name=t -c user.email=t@t commit -q --allow-empty -m i;"
                       " git worktree add -q '" + linked + "' 2>/dev/null";
  ASSERT_EQ(std::system(script.c_str()), 0);
  auto from_main = RepoLock::PathForRepo(main);
  auto from_linked = RepoLock::PathForRepo(linked);
  ASSERT_TRUE(from_main) << from_main.error().ToString();
  ASSERT_TRUE(from_linked) << from_linked.error().ToString();
  EXPECT_EQ(*from_main, std::filesystem::path(main) / ".git" / "tandem" / "writer.lock");
  EXPECT_EQ(std::filesystem::weakly_canonical(*from_linked),
            std::filesystem::weakly_canonical(*from_main));
  EXPECT_FALSE(RepoLock::PathForRepo(dir.path()));
}

}  // namespace
}  // namespace tandem::ledger
