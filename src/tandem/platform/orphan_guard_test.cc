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
#include <csignal>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/platform/process.h"
#include "tandem/platform/spawn.h"

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

// A caller standing in for tandem: a forked process that runs, through
// RunProcess, a shell that starts a grandchild; both hang, and the shell
// reports both pids through a fifo.
struct HungFamily {
  pid_t caller = 0;
  pid_t shell = 0;
  pid_t sleeper = 0;
};

// The caller's end of a pipe the test hook writes to, and the hook: it holds
// the caller right after the spawn, before RunProcess does anything else.
int g_held_report = -1;
void HoldCallerAfterSpawn(pid_t) {
  char byte = 1;
  [[maybe_unused]] auto n = ::write(g_held_report, &byte, 1);
  for (;;) ::pause();  // until the test kills the caller
}

// Starts the family under `dir`; with `held`, the caller is held by
// HoldCallerAfterSpawn, and this returns once it is.
HungFamily StartHungFamily(const fs::path& dir, bool held) {
  HungFamily family;
  fs::path fifo = dir / "pids";
  EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int held_pipe[2];
  EXPECT_EQ(::pipe(held_pipe), 0);
  family.caller = ::fork();
  EXPECT_GE(family.caller, 0);
  if (family.caller == 0) {
    ::close(held_pipe[0]);
    g_held_report = held_pipe[1];
    if (held) SetAfterSpawnHookForTesting(HoldCallerAfterSpawn);
    ProcessSpec spec;
    spec.argv = {"sh", "-c", "sleep 1000 & echo $$ $! > '" + fifo.string() + "'; wait"};
    auto result = RunProcess(spec);
    ::_exit(result ? 0 : 1);
  }
  ::close(held_pipe[1]);
  {
    std::ifstream in(fifo);  // blocks until the shell opens it for writing
    in >> family.shell >> family.sleeper;
  }
  if (held) {
    char byte = 0;
    EXPECT_EQ(::read(held_pipe[0], &byte, 1), 1) << "the caller was not held after the spawn";
  }
  ::close(held_pipe[0]);
  return family;
}

// Kills the caller and expects the shell and the sleeper to die with it.
void KillCallerAndExpectTheFamilyGone(const HungFamily& family) {
  ASSERT_GT(family.shell, 0);
  ASSERT_GT(family.sleeper, 0);
  ::kill(family.caller, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(family.caller, &status, 0), family.caller);

  bool shell_gone = WaitForExit(family.shell, 10000);
  bool sleeper_gone = WaitForExit(family.sleeper, 10000);
  if (!shell_gone) ::kill(family.shell, SIGKILL);
  if (!sleeper_gone) ::kill(family.sleeper, SIGKILL);
  EXPECT_TRUE(shell_gone) << "the child outlived its killed caller";
  EXPECT_TRUE(sleeper_gone) << "the grandchild outlived its killed caller";
}

fs::path MakeTempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "_XXXXXX")).string();
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

TEST(OrphanGuard, AKilledCallersProcessGroupDiesWithIt) {
  fs::path dir = MakeTempDir("tandem_guard");
  KillCallerAndExpectTheFamilyGone(StartHungFamily(dir, /*held=*/false));
  fs::remove_all(dir);
}

// The caller dies at the first instant it could after the spawn: the
// command has already run (and forked), so its group must have been the
// guard's before the command's first instruction. (When the caller
// registered the group itself after posix_spawn returned, a caller killed in
// between left the whole family running: this failed every time, and the
// test above about 1 time in 15 at load 10.)
TEST(OrphanGuard, ACallerKilledRightAfterTheSpawnStillTakesTheChildsGroupWithIt) {
  fs::path dir = MakeTempDir("tandem_guard_held");
  KillCallerAndExpectTheFamilyGone(StartHungFamily(dir, /*held=*/true));
  fs::remove_all(dir);
}

// The child registers itself on the guard's pipe before it execs; with the
// guard gone that write raises SIGPIPE while every signal is blocked, and
// the command must not die of it once they are unblocked.
TEST(OrphanGuard, CommandsStillRunWhenTheGuardIsGone) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    ::close(report[0]);
    std::signal(SIGPIPE, SIG_IGN);  // as cli::Main does
    int answer = -100;
    pid_t guard = 0;
    if (EnsureOrphanGuard() >= 0 && (guard = OrphanGuardPid()) > 0 &&
        ::kill(guard, SIGKILL) == 0 && ::waitpid(guard, nullptr, 0) == guard) {
      ProcessSpec spec;
      spec.argv = {"sh", "-c", "exit 7"};
      auto result = RunProcess(spec);
      answer = !result ? -101 : result->term_signal != 0 ? -result->term_signal : result->exit_code;
    }
    [[maybe_unused]] auto n = ::write(report[1], &answer, sizeof answer);
    ::_exit(0);
  }
  ::close(report[1]);
  int answer = 0;
  ASSERT_EQ(::read(report[0], &answer, sizeof answer), static_cast<ssize_t>(sizeof answer));
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(caller, &status, 0), caller);
  ASSERT_NE(answer, -100) << "the guard could not be started and killed";
  EXPECT_NE(answer, -SIGPIPE) << "the command died of the SIGPIPE of its registration";
  EXPECT_EQ(answer, 7);
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

// A caller standing in for tandem: a forked process that starts its guard
// with `start_guard` (run in the caller; the guard's pid, 0 when it could
// not), reports the guard's pid and lives until Finish(). The caller holds
// the write end of a probe pipe while the guard is forked, so the guard
// inherits it; the caller closes its own copy once the guard has started.
class CallerWithGuard {
 public:
  explicit CallerWithGuard(pid_t (*start_guard)()) {
    int probe[2], report[2], release[2];
    if (::pipe(probe) != 0 || ::pipe(report) != 0 || ::pipe(release) != 0) return;
    caller_ = ::fork();
    if (caller_ == 0) {
      ::close(probe[0]);
      ::close(report[0]);
      ::close(release[1]);
      pid_t guard = start_guard();
      ::close(probe[1]);
      [[maybe_unused]] auto n = ::write(report[1], &guard, sizeof guard);
      char byte;
      [[maybe_unused]] auto r = ::read(release[0], &byte, 1);  // EOF: the test is done
      ::_exit(0);
    }
    ::close(probe[1]);
    ::close(report[1]);
    ::close(release[0]);
    probe_ = probe[0];
    release_ = release[1];
    if (caller_ > 0 &&
        ::read(report[0], &guard_, sizeof guard_) != static_cast<ssize_t>(sizeof guard_)) {
      guard_ = 0;
    }
    ::close(report[0]);
  }
  ~CallerWithGuard() {
    Finish();
    if (probe_ >= 0) ::close(probe_);
  }
  CallerWithGuard(const CallerWithGuard&) = delete;
  CallerWithGuard& operator=(const CallerWithGuard&) = delete;

  // The guard's pid; 0 when none was started.
  pid_t guard() const { return guard_; }

  // True once the guard let go of the probe it inherited (EOF on the probe,
  // every other copy being closed), within 10 s.
  bool GuardClosedTheProbe() {
    pollfd p{probe_, POLLIN, 0};
    char byte;
    probe_closed_ = ::poll(&p, 1, 10000) == 1 && ::read(probe_, &byte, 1) == 0;
    return probe_closed_;
  }

  // Ends the caller and reaps it; true when its guard then ends too (within
  // 10 s; one that does not is killed).
  bool Finish() {
    if (caller_ <= 0) return false;
    ::close(release_);
    release_ = -1;
    // A guard that kept its inherited copy of the release pipe would keep
    // the caller waiting forever.
    if (!probe_closed_) ::kill(caller_, SIGKILL);
    int status = 0;
    ::waitpid(caller_, &status, 0);
    caller_ = 0;
    if (guard_ <= 0) return false;
    bool gone = WaitForExit(guard_, 10000);
    if (!gone) ::kill(guard_, SIGKILL);
    return gone;
  }

 private:
  pid_t caller_ = -1;
  pid_t guard_ = 0;
  int probe_ = -1;
  int release_ = -1;
  bool probe_closed_ = false;
};

// Where the caller of the next test works: the guard must not stay there.
std::string g_callers_directory;

// The guard outlives tandem by the moment it takes to read EOF: in that
// moment it must not sit in the repository (a crash test saw it there as a
// process left running in the working tree after a finished resume).
TEST(OrphanGuard, TheGuardWorksFromTheRootDirectoryNotTheCallers) {
  fs::path dir = MakeTempDir("tandem_guard_cwd");
  g_callers_directory = dir.string();
  CallerWithGuard caller([]() -> pid_t {
    if (::chdir(g_callers_directory.c_str()) != 0) return 0;
    EnsureOrphanGuard();
    return OrphanGuardPid();
  });
  ASSERT_GT(caller.guard(), 0) << "no guard was started";
  // The guard changes directory before it closes what it inherited.
  EXPECT_TRUE(caller.GuardClosedTheProbe()) << "the guard kept an inherited descriptor";
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(caller.guard()) + "/cwd", ec);
  EXPECT_EQ(cwd, fs::path("/")) << ec.message();
  EXPECT_TRUE(caller.Finish()) << "the guard outlived its caller";
  fs::remove_all(dir, ec);
}

// Where close_range fails (kernels before 5.9, seccomp) the guard must still
// drop what it inherited: a kept writer.lock would lock the repository
// forever, and a kept copy of its own pipe's write end would keep it alive.
TEST(OrphanGuard, WithoutCloseRangeTheGuardKeepsNoInheritedDescriptorAndEndsWithItsCaller) {
  CallerWithGuard caller([]() -> pid_t {
    SkipCloseRangeForTesting();
    ProcessSpec spec;
    spec.argv = {"true"};
    return RunProcess(spec).has_value() ? OrphanGuardPid() : 0;
  });
  ASSERT_GT(caller.guard(), 0) << "no guard was started";
  EXPECT_TRUE(caller.GuardClosedTheProbe()) << "the guard kept an inherited descriptor";
  size_t open_fds = 0;
  std::error_code ec;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator("/proc/" + std::to_string(caller.guard()) + "/fd", ec)) {
    ++open_fds;
  }
  EXPECT_EQ(open_fds, 1u) << "the guard should hold its pipe's read end only";
  EXPECT_TRUE(caller.Finish()) << "the guard outlived its caller";
}

}  // namespace
}  // namespace tandem::platform
