// tandem leaves nothing behind: a closed terminal (SIGHUP) rolls back like
// Ctrl-C, a kill -9 leaves no process of a running gate alive, and tandem's
// state never shows in the user's `git status`.
//
// Every wait is on a condition with a deadline: a file appearing (inotify),
// an event in the --json stream, a process exiting (pidfd).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class LifetimeTest : public E2eTest {
 protected:
  // Waits until `rel` exists in the repository (inotify on its directory).
  bool WaitForFile(const std::string& rel, std::chrono::milliseconds timeout) {
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return false;
    std::string dir = (std::filesystem::path(root()) / rel).parent_path().string();
    ::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool found = Exists(rel);
    while (!found) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
      }
      found = Exists(rel);
    }
    ::close(fd);
    return found;
  }
};

// Processes (not zombies) whose command line holds `token`.
std::vector<pid_t> ProcessesWith(const std::string& token) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (text.find(token) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') continue;
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

TEST_F(LifetimeTest, AClosedTerminalRollsBackTheUnfinishedStepLikeCtrlC) {
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {Call("write_file", {{"path", "kept.txt"}, {"content", "kept\n"}})}),
      Turn(1, {Call("write_file", {{"path", "partial.txt"}, {"content", "half\n"}}),
               Call("run_command", {{"command", "touch started.marker && sleep 30"}})}),
      Finish(2),
  }));
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

TEST_F(LifetimeTest, AKilledTandemLeavesNoProcessOfARunningGateBehind) {
  // A token no other process holds: the sleeps' length.
  const std::string token = std::to_string(900000 + ::getpid() % 90000);
  WriteFile("README.md", "# sample\n");
  // The gate leaves a double-forked orphan, starts a child, says it
  // started, and waits.
  WriteVerifyMd({{"hang", "(sleep " + token + " &); sleep " + token +
                              " & touch gate.started; wait"}});
  CommitAll();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                      Finish(1)}));
  TandemProcess process = SpawnTandem({"do", "--json", "write a"});
  ASSERT_TRUE(WaitForFile("gate.started", std::chrono::seconds(30)));
  std::vector<pid_t> tree = ProcessesWith(token);
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

TEST_F(LifetimeTest, TandemsStateStaysOutOfTheUsersGitStatus) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})}),
                      Finish(1)}));
  // The user's own exclude lines, without the fixture's `.tandem/`; the
  // repository's config.toml is committed, as a team would.
  const std::string mine = "# mine\n*.log";
  WriteFile(".git/info/exclude", mine);
  CommitAll("config");
  ASSERT_EQ(Git("status --porcelain --untracked-files=all"), "");

  TandemRun run = Do("write a");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Git("status --porcelain --untracked-files=all"), "?? a.txt\n");
  TandemRun again = RunTandem({"init"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  std::string exclude = ReadFile(".git/info/exclude");
  EXPECT_EQ(exclude.rfind(mine + "\n", 0), 0u) << exclude;
  EXPECT_EQ(exclude.find("/.tandem/*"), exclude.rfind("/.tandem/*")) << "added twice: " << exclude;
  EXPECT_EQ(Git("status --porcelain --untracked-files=all -- .tandem"), "");
}

}  // namespace
}  // namespace tandem::e2e
