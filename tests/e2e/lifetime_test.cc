// tandem leaves nothing behind: a closed terminal (SIGHUP) rolls back like
// Ctrl-C, a kill -9 leaves no process of a running gate alive, and tandem's
// state never shows in the user's `git status`.
//
// Every wait is on a condition with a deadline: a file appearing (inotify),
// an event in the --json stream, a process exiting (pidfd).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

class LifetimeTest : public E2eTest {
 protected:
  // Starts `tandem do` in a repository whose gate runs `gate` (which must
  // touch gate.started once its processes run) and returns once the gate
  // has started. `token` must appear in the command line of every process
  // of the gate's tree; *tree receives their pids.
  // `config` is extra configuration in the user's layer (e.g. no sandbox).
  TandemProcess StartHungOnAGate(const std::string& gate, const std::string& token,
                                 std::vector<pid_t>* tree, const std::string& config = "");
};

// The contents of a /proc file, "" when the process is gone (reads of a
// process that exits meanwhile fail with ESRCH).
std::string ReadProc(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  ssize_t got;
  while ((got = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(got));
  ::close(fd);
  return got < 0 ? "" : text;
}

// Processes (not zombies) whose command line holds `token`.
std::vector<pid_t> ProcessesWith(const std::string& token) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (ReadProc("/proc/" + name + "/cmdline").find(token) == std::string::npos) continue;
    std::string stat = ReadProc("/proc/" + name + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z') continue;
    pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

// Waits until `pid` has exited, at most `timeout_ms` (pidfd: works for
// processes that are not our children).
bool WaitForExit(pid_t pid, int timeout_ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return true;  // already gone
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, timeout_ms);
  ::close(fd);
  return ready == 1;
}

TandemProcess LifetimeTest::StartHungOnAGate(const std::string& gate, const std::string& token,
                                             std::vector<pid_t>* tree, const std::string& config) {
  WriteFile("README.md", "# sample\n");
  WriteVerifyMd({{"hang", gate}});
  CommitAll();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                      Finish(1)}),
              config);
  TandemProcess process = SpawnTandem({"do", "--json", "write a"});
  EXPECT_TRUE(WaitForFile("gate.started", std::chrono::seconds(30)));
  *tree = ProcessesWith(token);
  return process;
}

TEST_F(LifetimeTest, AClosedTerminalRollsBackTheUnfinishedStepLikeCtrlC) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  TandemProcess process = SpawnTandem({"do", "--json", "slow work"});
  ASSERT_TRUE(WaitForFile("started.marker", std::chrono::seconds(30)));
  ::kill(process.pid, SIGHUP);
  TandemRun run = WaitTandem(process);

  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "interrupted");
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("partial.txt"));
  EXPECT_FALSE(Exists("started.marker"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
}

// Reads `fd` on a thread of its own until Stop(), which then closes it: a
// writer to the other end never blocks on a full buffer meanwhile.
class Drain {
 public:
  explicit Drain(int fd) : fd_(fd) {
    if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
    thread_ = std::thread([this] {
      char buf[4096];
      for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        if (fds[1].revents != 0) break;
        if (fds[0].revents != 0 && ::read(fd_, buf, sizeof buf) <= 0) break;
      }
    });
  }
  ~Drain() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    ::close(stop_[1]);
    thread_.join();
    ::close(stop_[0]);
    ::close(fd_);
  }

 private:
  int fd_;
  int stop_[2];
  std::thread thread_;
};

// Starts `tandem <args>` in the repository, as SpawnTandem does, but with
// `stdio` (async-signal-safe calls only) run in the child first to set up
// its descriptors 0-2.
TandemProcess ForkTandem(const std::string& root, const std::string& config_home,
                         const std::vector<std::string>& args, const std::function<void()>& stdio) {
  const std::string binary = std::string(TANDEM_BINARY_DIR) + "/tandem";
  std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  TandemProcess process{-1, config_home + "/no.out", config_home + "/no.err"};
  process.pid = ::fork();
  if (process.pid == 0) {
    stdio();
    if (::chdir(root.c_str()) != 0) ::_exit(127);
    ::setenv("XDG_CONFIG_HOME", config_home.c_str(), 1);
    for (int sig : {SIGINT, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return process;
}

// A real hangup, not a kill(SIGHUP): tandem runs as the session leader on a
// pty whose master is closed mid-step, so after the signal every write to its
// terminal fails (EIO). The rollback must still complete and be recorded.
TEST_F(LifetimeTest, AHungUpTerminalStillRollsBackTheStepAndRecordsIt) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string slave = ::ptsname(master);
  TandemProcess process =
      ForkTandem(root(), OutsidePath("xdg-config"), {"do", "slow work"}, [&slave] {
        ::setsid();
        int tty = ::open(slave.c_str(), O_RDWR);  // becomes the controlling terminal
        if (tty < 0) ::_exit(127);
        for (int fd : {0, 1, 2}) ::dup2(tty, fd);
      });
  ASSERT_GE(process.pid, 0);
  Drain terminal(master);
  bool started = WaitForFile("started.marker", std::chrono::seconds(30));
  terminal.Stop();  // closes the master: the kernel sends SIGHUP to tandem
  TandemRun run = WaitTandem(process);
  ASSERT_TRUE(started);

  EXPECT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("partial.txt")) << "the unfinished step was not rolled back";
  EXPECT_FALSE(Exists("started.marker"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
}

// `tandem do --json ... | head`: the reader of tandem's output goes away
// mid-step. The next write must not kill tandem (SIGPIPE) with the step
// unrolled; Ctrl-C then rolls it back as usual.
TEST_F(LifetimeTest, AReaderOfItsOutputGoingAwayDoesNotKillTandemMidStep) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const std::string err = OutsidePath("pipe.err");
  TandemProcess process =
      ForkTandem(root(), OutsidePath("xdg-config"), {"do", "--json", "slow work"}, [&] {
        ::dup2(out[1], 1);
        int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) ::dup2(fd, 2);
      });
  ASSERT_GE(process.pid, 0);
  ::close(out[1]);
  Drain reader(out[0]);
  bool started = WaitForFile("started.marker", std::chrono::seconds(30));
  reader.Stop();  // the reader is gone: tandem's next write meets a closed pipe
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);
  ASSERT_TRUE(started);

  EXPECT_EQ(run.term_signal, 0) << "killed by signal " << run.term_signal << ": " << Slurp(err);
  EXPECT_EQ(run.exit_code, 130) << Slurp(err);
  EXPECT_FALSE(Exists("partial.txt")) << "the unfinished step was not rolled back";
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
}

TEST_F(LifetimeTest, AKilledTandemLeavesNoProcessOfARunningGateBehind) {
  // A token no other process holds: the sleeps' length.
  const std::string token = std::to_string(900000 + ::getpid() % 90000);
  // The gate leaves a double-forked orphan, starts a child, says it
  // started, and waits.
  std::vector<pid_t> tree;
  TandemProcess process = StartHungOnAGate(
      "(sleep " + token + " &); sleep " + token + " & touch gate.started; wait", token, &tree);
  ASSERT_GE(tree.size(), 3u) << "expected the gate's shell and two sleeps";

  ::kill(process.pid, SIGKILL);
  TandemRun run = WaitTandem(process);
  ASSERT_EQ(run.term_signal, SIGKILL);

  std::vector<pid_t> survivors;
  for (pid_t pid : tree) {
    if (!WaitForExit(pid, 10000)) survivors.push_back(pid);
  }
  for (pid_t pid : ProcessesWith(token)) ::kill(pid, SIGKILL);  // leave the machine clean
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " gate process(es) outlived tandem";
}

// The orphan guard forked by tandem `parent` (comm "tandem-guard").
pid_t GuardOf(pid_t parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (ReadProc("/proc/" + name + "/comm") != "tandem-guard\n") continue;
    std::string status = ReadProc("/proc/" + name + "/status");
    if (status.find("\nPPid:\t" + std::to_string(parent) + "\n") != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

TEST_F(LifetimeTest, WhatAKilledTandemAndItsGuardLeftIsStoppedByTheNextWriter) {
  const std::string token = std::to_string(800000 + ::getpid() % 90000);
  std::vector<pid_t> tree;
  // Outside the sandbox (sandbox.mode = none, or an approved command): no
  // pid namespace ends the tree with tandem, only the guard and the owner tag.
  TandemProcess process = StartHungOnAGate("sleep " + token + " & touch gate.started; wait", token,
                                           &tree, "[sandbox]\nmode = \"none\"\n");
  ASSERT_GE(tree.size(), 2u) << "expected the gate's shell and its sleep";
  // Both die at once, as with `pkill -9 tandem`: the guard first, so it
  // cannot act.
  pid_t guard = GuardOf(process.pid);
  ASSERT_GT(guard, 0) << "no orphan guard found";
  ::kill(guard, SIGKILL);
  ASSERT_TRUE(WaitForExit(guard, 10000));
  ::kill(process.pid, SIGKILL);
  ASSERT_EQ(WaitTandem(process).term_signal, SIGKILL);
  ASSERT_EQ(ProcessesWith(token).size(), tree.size()) << "the scenario needs survivors";

  TandemRun next = RunTandem({"init"});
  EXPECT_EQ(next.exit_code, 0) << next.Describe();
  EXPECT_NE(next.err.find("stopped " + std::to_string(tree.size()) + " process(es)"),
            std::string::npos)
      << next.err;
  std::vector<pid_t> survivors;
  for (pid_t pid : tree) {
    if (!WaitForExit(pid, 10000)) survivors.push_back(pid);
  }
  for (pid_t pid : ProcessesWith(token)) ::kill(pid, SIGKILL);  // leave the machine clean
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " process(es) left running";
}

TEST_F(LifetimeTest, TandemsStateStaysOutOfTheUsersGitStatus) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                      Finish(1)}));
  // The user's own exclude lines, without the fixture's `.tandem/`; the
  // repository's config.toml is committed, as a team would.
  const std::string mine = "# mine\n*.log";
  WriteFile(".git/info/exclude", mine);
  WriteFile(".tandem/config.toml", "[limits]\nmax_steps = 60\n");
  CommitAll("config");
  ASSERT_EQ(Git("status --porcelain --untracked-files=all"), "");

  TandemRun run = Do("write a");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Git("status --porcelain --untracked-files=all"), "?? a.txt\n");
  TandemRun again = RunTandem({"init"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  // Its state is in the git directory: nothing to hide, the user's file untouched.
  EXPECT_EQ(ReadFile(".git/info/exclude"), mine);
  EXPECT_TRUE(std::filesystem::exists(LedgerPath()));
  EXPECT_EQ(Git("status --porcelain --untracked-files=all -- .tandem"), "");
}

}  // namespace
}  // namespace tandem::e2e
