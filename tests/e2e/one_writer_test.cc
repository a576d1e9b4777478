// One writer per repository: commands that write the tree or the plan take
// the repository's writer lock (src/tandem/ledger/repo_lock.h) before they
// check anything. A second writer is refused with exit code 5 and a message
// naming the holder; readers (status, steer, stats) keep working; a killed
// holder's lock is taken over.
//
// The holder is kept alive without timing: its model stream stalls (a
// scripted fault) until the test interrupts it, and every step waits for an
// event in the holder's --json stream or for a process to exit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr int kExitBusy = 5;  // docs/EVENTS.md, src/tandem/cli/exit_codes.h

// An executor turn whose stream stalls for a minute after its first token
// (a word of text, so the holder publishes a model_delta first).
json Stalled(json turn) {
  turn["text"] = "Writing it now.";
  turn["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 60000}}});
  return turn;
}

bool IsModelDelta(const json& e) { return e.value("type", "") == "model_delta"; }

// Blocks until one of `a` or `b` exits (without reaping it); returns its
// pid, or -1 after `timeout_ms`.
pid_t FirstToExit(pid_t a, pid_t b, int timeout_ms) {
  int fa = static_cast<int>(::syscall(SYS_pidfd_open, a, 0));
  int fb = static_cast<int>(::syscall(SYS_pidfd_open, b, 0));
  pollfd fds[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
  int ready = ::poll(fds, 2, timeout_ms);
  pid_t first = -1;
  if (ready > 0) first = (fds[0].revents & POLLIN) ? a : b;
  ::close(fa);
  ::close(fb);
  return first;
}

class OneWriterTest : public E2eTest {
 protected:
  // A repository with a one-task plan whose executor stalls mid-stream
  // (once), then writes out.txt and finishes.
  void MakeStallingPlanRepo() {
    MakePassingRepo();
    WriteFile("plan.md", "# Plan: lock\n\n" + TaskBlock("T1", "Write out", "Write it [lockmark]"));
    CommitAll("plan");
    StartServer(Script({Stalled(TaskTurn("lockmark", 0, {Call("write_file",
                                                              {{"path", "out.txt"},
                                                               {"content", "once\n"}})})),
                        TaskTurn("lockmark", 1, {Call("finish", {{"summary", "wrote"}})}),
                        Turn(0, {Call("write_file", {{"path", "do.txt"}, {"content", "x\n"}})}),
                        Finish(1)}));
  }
  // The run id in the process's run_started event so far.
  std::string RunIdOf(const TandemProcess& p) {
    for (const std::string& line : Lines(Slurp(p.out_path))) {
      json e = json::parse(line, nullptr, false);
      if (e.is_object() && e.value("type", "") == "run_started") return e.value("run", "");
    }
    return "";
  }
  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
};

TEST_F(OneWriterTest, TwoRunsStartedTogetherRunOnceAndTheOtherIsToldWhoRuns) {
  MakeStallingPlanRepo();
  TandemProcess a = SpawnTandem({"run", "--json"});
  TandemProcess b = SpawnTandem({"run", "--json"});
  pid_t first = FirstToExit(a.pid, b.pid, 30000);
  ASSERT_NE(first, -1) << "neither run ended: both hold the repository";
  const TandemProcess& loser = first == a.pid ? a : b;
  const TandemProcess& winner = first == a.pid ? b : a;
  TandemRun refused = WaitTandem(loser);
  EXPECT_EQ(refused.exit_code, kExitBusy) << refused.Describe();
  EXPECT_TRUE(refused.events.empty()) << "the refused run started: " << refused.Describe();
  EXPECT_NE(refused.err.find("another tandem process is writing"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("holder:  tandem run"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("pid " + std::to_string(winner.pid)), std::string::npos)
      << refused.err;

  ASSERT_TRUE(WaitForEvent(winner, IsModelDelta));
  ::kill(winner.pid, SIGINT);
  TandemRun won = WaitTandem(winner);
  EXPECT_EQ(won.exit_code, 130) << won.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'"), "1");
}

// Worktrees share the writer lock (one writer per repository); a writer in
// a second checkout is told which checkout is being written, and by which run.
TEST_F(OneWriterTest, AWriterInAnotherWorktreeIsToldTheHoldersCheckoutAndRun) {
  MakeStallingPlanRepo();
  const std::string second = OutsidePath("second");
  Git("worktree add -q --detach '" + second + "'");
  TandemProcess live = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(live, IsModelDelta));
  std::string run_id = RunIdOf(live);
  ASSERT_FALSE(run_id.empty());

  const std::string err_path = OutsidePath("second.err");
  const std::string command = "cd '" + second + "' && '" + TANDEM_BINARY_DIR +
                              "/tandem' undo </dev/null >/dev/null 2>'" + err_path + "'";
  int status = std::system(command.c_str());
  std::string err = Slurp(err_path);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitBusy) << status << " " << err;
  EXPECT_NE(err.find("another tandem process is writing " + root()), std::string::npos) << err;
  EXPECT_EQ(err.find("writing " + second), std::string::npos) << err;
  EXPECT_NE(err.find("holder:  tandem run (run " + run_id + ")"), std::string::npos) << err;
  EXPECT_NE(err.find("pid " + std::to_string(live.pid)), std::string::npos) << err;

  ::kill(live.pid, SIGINT);
  TandemRun stopped = WaitTandem(live);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.Describe();
}

TEST_F(OneWriterTest, WritersAreRefusedDuringALiveRunWhileReadersKeepWorking) {
  MakeStallingPlanRepo();
  TandemProcess live = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(live, IsModelDelta));
  std::string run_id = RunIdOf(live);
  ASSERT_FALSE(run_id.empty());
  std::string plan_before = ReadFile("plan.md");

  for (std::vector<std::string> writer : std::vector<std::vector<std::string>>{
           {"undo"},
           {"do", "--json", "write do.txt"},
           {"plan", "--force", "another goal"},
           {"run", "--json"},
           {"resume", "--json"},
           {"init"}}) {
    TandemRun refused = RunTandem(writer);
    EXPECT_EQ(refused.exit_code, kExitBusy) << writer[0] << ": " << refused.Describe();
    EXPECT_NE(refused.err.find("run " + run_id), std::string::npos) << writer[0] << ": "
                                                                    << refused.err;
    EXPECT_NE(refused.err.find("pid " + std::to_string(live.pid)), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("tandem steer"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("kill -INT " + std::to_string(live.pid)), std::string::npos)
        << refused.err;
  }
  EXPECT_EQ(ReadFile("plan.md"), plan_before);
  EXPECT_FALSE(Exists("do.txt"));
  EXPECT_FALSE(Exists("AGENTS.md")) << "init wrote during the run";

  TandemRun status = RunTandem({"status", "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_NE(status.out.find(run_id), std::string::npos) << status.out;
  TandemRun steer = RunTandem({"steer", "keep it short"});
  EXPECT_EQ(steer.exit_code, 0) << steer.Describe();
  TandemRun stats = RunTandem({"stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steer_notes"), "1");

  ::kill(live.pid, SIGINT);
  TandemRun stopped = WaitTandem(live);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM runs"), "1") << "a refused command began a run";
}

TEST_F(OneWriterTest, AKilledHoldersLockIsTakenOver) {
  MakeStallingPlanRepo();
  TandemProcess killed = SpawnTandem({"run", "--json"});
  ASSERT_TRUE(WaitForEvent(killed, IsModelDelta));
  ::kill(killed.pid, SIGKILL);
  TandemRun dead = WaitTandem(killed);
  ASSERT_EQ(dead.term_signal, SIGKILL);

  TandemRun resumed = RunTandem({"resume", "--json"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_NE(resumed.err.find("pid " + std::to_string(killed.pid)), std::string::npos)
      << resumed.err;
  EXPECT_NE(resumed.err.find("ended without releasing"), std::string::npos) << resumed.err;
  EXPECT_EQ(ReadFile("out.txt"), "once\n");
  // Released cleanly this time: the next writer has nothing to report.
  TandemRun next = RunTandem({"init"});
  EXPECT_EQ(next.exit_code, 0) << next.Describe();
  EXPECT_EQ(next.err.find("ended without releasing"), std::string::npos) << next.err;
}

// kill -9 of a holder while one of its threads forks a gate leaves the
// child holding the flock until its exec closes the descriptor. The next
// writer must wait that moment out, not refuse (the parallel run's crash
// test met it as "resume exit 5"). Here the test plays that child: it holds
// the lock under a dead holder's record and lets go once tandem has tried.
TEST_F(OneWriterTest, ALockKeptByADeadHoldersChildForAMomentIsTakenOver) {
  MakePassingRepo();
  const std::string lock_path = root() + "/.git/tandem/writer.lock";
  std::filesystem::create_directories(root() + "/.git/tandem");
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  int held = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX | LOCK_NB), 0);
  const std::string record = "pid=" + std::to_string(dead) +
                             "\nstart_ticks=1\nboot_id=x\nstarted_at_ms=1\ncommand=tandem run\nroot=" +
                             root() + "\n";
  ASSERT_EQ(::write(held, record.data(), record.size()), static_cast<ssize_t>(record.size()));
  int watch = ::inotify_init1(IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, lock_path.c_str(), IN_OPEN), 0);

  TandemProcess writer = SpawnTandem({"init"});
  // Two opens: its failed Acquire, then its read of the holder's record.
  int opens = 0;
  while (opens < 2) {
    pollfd p{watch, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 20000), 1) << "tandem never tried the lock";
    char buf[4096] __attribute__((aligned(alignof(inotify_event))));
    ssize_t n = ::read(watch, buf, sizeof buf);
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      if (e->mask & IN_OPEN) ++opens;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  ::close(held);  // the child's exec: the flock is gone
  ::close(watch);
  TandemRun run = WaitTandem(writer);

  EXPECT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.err.find("another tandem process"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tandem::e2e
