#include "tandem/ledger/process_identity.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

TEST(ProcessIdentity, CurrentProcessIsAlive) {
  ProcessIdentity me = ProcessIdentity::Current();
  EXPECT_EQ(me.pid, getpid());
  EXPECT_GT(me.start_ticks, 0);
  EXPECT_FALSE(me.boot_id.empty());
  EXPECT_TRUE(me.IsAlive());
}

TEST(ProcessIdentity, KilledAndReapedChildIsDead) {
  testing::ChildProcess child;
  ProcessIdentity id = child.identity();
  EXPECT_TRUE(id.IsAlive());
  child.Kill();
  EXPECT_FALSE(id.IsAlive());
}

TEST(ProcessIdentity, ZombieChildIsDead) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ProcessIdentity id = ProcessIdentity::Of(pid);
  // Wait until it has exited but leave it unreaped (a zombie).
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(id.IsAlive());
  waitpid(pid, nullptr, 0);
}

TEST(ProcessIdentity, ReusedPidWithAnotherStartTimeIsDead) {
  ProcessIdentity me = ProcessIdentity::Current();
  me.start_ticks += 1;
  EXPECT_FALSE(me.IsAlive());
}

TEST(ProcessIdentity, ProcessFromAnotherBootIsDead) {
  ProcessIdentity me = ProcessIdentity::Current();
  me.boot_id = "00000000-0000-0000-0000-000000000000";
  EXPECT_FALSE(me.IsAlive());
}

}  // namespace
}  // namespace tandem::ledger
