#include "tandem/platform/orphan_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/platform/process.h"

namespace tandem::platform {
namespace {

namespace fs = std::filesystem;

// Waits until `pid` has exited (a zombie counts: it runs no more), at most
// `timeout_ms`. pidfd_open works for processes that are not our children.
bool WaitForExit(pid_t pid, int timeout_ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, timeout_ms);
  ::close(fd);
  return ready == 1;
}

TEST(OrphanGuard, AKilledCallersProcessGroupDiesWithIt) {
  std::string tmpl = (fs::temp_directory_path() / "tandem_guard_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  fs::path fifo = fs::path(tmpl) / "pids";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

  // The caller stands in for tandem: it runs a child that starts a
  // grandchild and both hang; the child reports both pids through the fifo.
  pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    ProcessSpec spec;
    spec.argv = {"sh", "-c", "sleep 1000 & echo $$ $! > '" + fifo.string() + "'; wait"};
    auto result = RunProcess(spec);
    ::_exit(result ? 0 : 1);
  }
  pid_t shell = 0, sleeper = 0;
  {
    std::ifstream in(fifo);  // blocks until the shell opens it for writing
    in >> shell >> sleeper;
  }
  ASSERT_GT(shell, 0);
  ASSERT_GT(sleeper, 0);

  ::kill(caller, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(caller, &status, 0), caller);

  bool shell_gone = WaitForExit(shell, 10000);
  bool sleeper_gone = WaitForExit(sleeper, 10000);
  if (!shell_gone) ::kill(shell, SIGKILL);
  if (!sleeper_gone) ::kill(sleeper, SIGKILL);
  EXPECT_TRUE(shell_gone) << "the child outlived its killed caller";
  EXPECT_TRUE(sleeper_gone) << "the grandchild outlived its killed caller";
  fs::remove_all(tmpl);
}

TEST(OrphanGuard, TheGuardItselfEndsWithItsCaller) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    ProcessSpec spec;
    spec.argv = {"true"};
    bool ran = RunProcess(spec).has_value();
    pid_t guard = OrphanGuardPid();
    [[maybe_unused]] auto n = ::write(pipe_fds[1], &guard, sizeof guard);
    ::_exit(ran ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  pid_t guard = 0;
  ASSERT_EQ(::read(pipe_fds[0], &guard, sizeof guard), static_cast<ssize_t>(sizeof guard));
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(caller, &status, 0), caller);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_GT(guard, 0) << "no guard was started";
  bool gone = WaitForExit(guard, 10000);
  if (!gone) ::kill(guard, SIGKILL);
  EXPECT_TRUE(gone) << "the guard outlived its caller";
}

TEST(OrphanGuard, LeftoversAreFoundByTheirExactOwnerTag) {
  // The pipe's write end closes on exec: EOF tells the exec happened.
  int exec_done[2];
  ASSERT_EQ(::pipe2(exec_done, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("1000"), nullptr};
    char* envp[] = {const_cast<char*>("TANDEM_OWNER=test-owner.34"), nullptr};
    ::execve("/bin/sleep", argv, envp);
    ::_exit(127);
  }
  ::close(exec_done[1]);
  char byte;
  ASSERT_EQ(::read(exec_done[0], &byte, 1), 0);
  ::close(exec_done[0]);

  EXPECT_EQ(KillLeftoversOf("test-owner.3"), 0) << "a prefix of the tag matched";
  int killed = KillLeftoversOf("test-owner.34");
  EXPECT_EQ(killed, 1);
  if (killed != 1) ::kill(child, SIGTERM);  // never hang on a failure
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// The guard outlives tandem by the moment it takes to read EOF: in that
// moment it must not sit in the repository (a crash test saw it there as a
// process left running in the working tree after a finished resume).
TEST(OrphanGuard, TheGuardWorksFromTheRootDirectoryNotTheCallers) {
  std::string tmpl = (fs::temp_directory_path() / "tandem_guard_cwd_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  int probe[2], report[2], release[2];
  ASSERT_EQ(::pipe(probe), 0);  // the guard inherits probe[1]: EOF once it let go of it
  ASSERT_EQ(::pipe(report), 0);
  ASSERT_EQ(::pipe(release), 0);
  pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    ::close(probe[0]);
    ::close(report[0]);
    ::close(release[1]);
    pid_t guard = 0;
    if (::chdir(tmpl.c_str()) == 0) {
      EnsureOrphanGuard();
      guard = OrphanGuardPid();
    }
    ::close(probe[1]);
    [[maybe_unused]] auto n = ::write(report[1], &guard, sizeof guard);
    char byte;
    [[maybe_unused]] auto r = ::read(release[0], &byte, 1);  // EOF: the test is done
    ::_exit(0);
  }
  ::close(probe[1]);
  ::close(report[1]);
  ::close(release[0]);
  pid_t guard = 0;
  ASSERT_EQ(::read(report[0], &guard, sizeof guard), static_cast<ssize_t>(sizeof guard));
  ::close(report[0]);
  ASSERT_GT(guard, 0) << "no guard was started";
  // The guard changes directory before it closes what it inherited.
  pollfd p{probe[0], POLLIN, 0};
  char byte;
  bool settled = ::poll(&p, 1, 10000) == 1 && ::read(probe[0], &byte, 1) == 0;
  ::close(probe[0]);
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(guard) + "/cwd", ec);
  EXPECT_TRUE(settled) << "the guard kept an inherited descriptor";
  EXPECT_EQ(cwd, fs::path("/")) << ec.message();

  ::close(release[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(caller, &status, 0), caller);
  EXPECT_TRUE(WaitForExit(guard, 10000)) << "the guard outlived its caller";
  fs::remove_all(tmpl, ec);
}

// Where close_range fails (kernels before 5.9, seccomp) the guard must still
// drop what it inherited: a kept writer.lock would lock the repository
// forever, and a kept copy of its own pipe's write end would keep it alive.
TEST(OrphanGuard, WithoutCloseRangeTheGuardKeepsNoInheritedDescriptorAndEndsWithItsCaller) {
  int probe[2], report[2], release[2];
  ASSERT_EQ(::pipe(probe), 0);  // the guard inherits probe[1]: EOF once it closed it
  ASSERT_EQ(::pipe(report), 0);
  ASSERT_EQ(::pipe(release), 0);
  pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    ::close(probe[0]);
    ::close(report[0]);
    ::close(release[1]);
    SkipCloseRangeForTesting();
    ProcessSpec spec;
    spec.argv = {"true"};
    bool ran = RunProcess(spec).has_value();
    ::close(probe[1]);
    pid_t guard = ran ? OrphanGuardPid() : 0;
    [[maybe_unused]] auto n = ::write(report[1], &guard, sizeof guard);
    char byte;
    [[maybe_unused]] auto r = ::read(release[0], &byte, 1);  // EOF: the test is done
    ::_exit(0);
  }
  ::close(probe[1]);
  ::close(report[1]);
  ::close(release[0]);
  pid_t guard = 0;
  ASSERT_EQ(::read(report[0], &guard, sizeof guard), static_cast<ssize_t>(sizeof guard));
  ::close(report[0]);
  ASSERT_GT(guard, 0) << "no guard was started";

  pollfd p{probe[0], POLLIN, 0};
  bool closed = ::poll(&p, 1, 10000) == 1;
  char byte;
  closed = closed && ::read(probe[0], &byte, 1) == 0;
  ::close(probe[0]);
  EXPECT_TRUE(closed) << "the guard kept an inherited descriptor";
  size_t open_fds = 0;
  std::error_code ec;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator("/proc/" + std::to_string(guard) + "/fd", ec)) {
    ++open_fds;
  }
  EXPECT_EQ(open_fds, 1u) << "the guard should hold its pipe's read end only";

  ::close(release[1]);
  if (!closed) ::kill(caller, SIGKILL);  // a kept copy of release[1] would block it forever
  int status = 0;
  ASSERT_EQ(::waitpid(caller, &status, 0), caller);
  bool gone = WaitForExit(guard, 10000);
  if (!gone) ::kill(guard, SIGKILL);
  EXPECT_TRUE(gone) << "the guard outlived its caller";
}

}  // namespace
}  // namespace tandem::platform
