// `tandem run` with limits.parallel_tasks > 1: independent tasks run at
// once, each in its own worktree, and are merged into the checkout, where
// their gates run again; a task that passes alone but breaks the merged
// tree runs again on top of it.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "tests/e2e/orchestrator_helpers.h"
#include "tests/e2e/pty_tandem.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class ParallelRunTest : public E2eTest {
 protected:
  static constexpr const char* kIds[] = {"T1", "T2", "T3", "T4"};

  // plan.md with four independent tasks T1..T4, each writing out/<id>.txt,
  // and the script of their executors (each finish reply stalls `stall_ms`).
  std::vector<json> FourTasks(int stall_ms) {
    std::string plan = "# Plan: four files\n\n";
    for (const char* id : kIds) plan += FileTask(id, std::string("out/") + id + ".txt");
    WriteFile("plan.md", plan);
    CommitAll("plan");
    std::vector<json> turns;
    for (const char* id : kIds) {
      std::string marker = std::string("[") + id + "]";
      auto task =
          WriteThenFinish(marker, std::string("out/") + id + ".txt", std::string(id) + "\n");
      if (stall_ms > 0) {
        task[1]["faults"] =
            json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", stall_ms}}});
      }
      for (auto& t : task) turns.push_back(t);
    }
    return turns;
  }

  // A plan task that writes `file` (its scope) and finishes. Scopes with a
  // directory part: an entry without '/' matches at any depth, so two such
  // scopes count as overlapping (task_queue.h) and would not run together.
  static std::string FileTask(const std::string& id, const std::string& file) {
    return TaskBlock(id, "Write " + file, "Write " + file + " [" + id + "]",
                     "  - scope: " + file + "\n");
  }
};

TEST_F(ParallelRunTest, FourIndependentTasksRunAtOnceAndAllReachTheCheckout) {
  MakePassingRepo();
  // Each finish reply takes a while: run one by one, no two tasks would be
  // in flight at once.
  std::vector<json> turns = FourTasks(1500);
  StartServer(Script(turns), "[limits]\nparallel_tasks = 4\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const char* id : {"T1", "T2", "T3", "T4"}) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  std::string after = ReadFile("plan.md");
  for (const char* id : {"T1", "T2", "T3", "T4"}) {
    EXPECT_NE(after.find(std::string("- [x] ") + id), std::string::npos) << after;
  }
  // All four were in flight at once: every task's first step began before
  // any task's last step ended.
  std::string id = run.RunId();
  std::string first_starts_max = LedgerValue(
      "SELECT max(s) FROM (SELECT min(started_at) AS s FROM steps WHERE run_id = '" + id +
      "' AND task_id IS NOT NULL GROUP BY task_id)");
  std::string last_ends_min = LedgerValue(
      "SELECT min(e) FROM (SELECT max(ended_at) AS e FROM steps WHERE run_id = '" + id +
      "' AND task_id IS NOT NULL GROUP BY task_id)");
  ASSERT_FALSE(first_starts_max.empty());
  EXPECT_LT(std::stoll(first_starts_max), std::stoll(last_ends_min));
  // Each task was merged into the checkout as a step of its own, after its
  // gates passed there.
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE run_id = '" + id +
                        "' AND note = 'merged into the integrated tree'"),
            "4");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM tasks WHERE run_id = '" + id +
                        "' AND state = 'done'"),
            "4");
  // The pool of worktrees is gone.
  EXPECT_EQ(Git("worktree list --porcelain").find("tandem/worktrees"), std::string::npos);
}

TEST_F(ParallelRunTest, AllAgentsGatesShareTheProcesssJobBudget) {
  // Four agents at once, one job token: no two gate runs may overlap, in
  // the worktrees or on the merged tree. Each gate takes a while, so runs
  // sized by a budget of their own would overlap.
  WriteFile("README.md", "# sample\n");
  WriteFile("check.sh", "#!/bin/sh\nsleep 0.3\necho checks pass\n");
  WriteVerifyMd({{"check", "sh check.sh"}});
  CommitAll();
  StartServer(Script(FourTasks(0)), "[limits]\nparallel_tasks = 4\njobs = 1\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string spans = LedgerValue(
      "SELECT group_concat((at - duration_ms) || ':' || at, ' ') FROM (SELECT at, duration_ms "
      "FROM gate_runs WHERE verdict != 'cached' ORDER BY at - duration_ms)");
  std::vector<std::pair<long long, long long>> runs;
  std::istringstream in(spans);
  for (std::string span; in >> span;) {
    size_t colon = span.find(':');
    runs.emplace_back(std::stoll(span.substr(0, colon)), std::stoll(span.substr(colon + 1)));
  }
  ASSERT_GE(runs.size(), 5u) << spans;  // 4 in the worktrees, 1 or more on merges
  // `at` is stamped when the row is written, a moment after the gate ended:
  // 50 ms of slack for that, against 300 ms gates that would overlap.
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_GE(runs[i].first + 50, runs[i - 1].second) << "gate runs overlap: " << spans;
  }
}

TEST_F(ParallelRunTest, ATaskThatPassesAloneButBreaksTheMergedTreeRunsAgain) {
  WriteFile("README.md", "# sample\n");
  // Alone, either file is fine; together, one of them must say v2.
  WriteFile("check.sh",
            "#!/bin/sh\n[ -f x/a.txt ] && [ -f y/b.txt ] || exit 0\n"
            "grep -q v2 x/a.txt y/b.txt || { echo 'x/a.txt and y/b.txt disagree'; exit 1; }\n");
  WriteVerifyMd({{"check", "sh check.sh"}});
  WriteFile("plan.md",
            "# Plan: two files\n\n" + FileTask("TA", "x/a.txt") + FileTask("TB", "y/b.txt"));
  CommitAll();
  std::vector<json> turns;
  for (const auto& [id, file] : {std::pair{"TA", "x/a.txt"}, std::pair{"TB", "y/b.txt"}}) {
    std::string marker = std::string("[") + id + "]";
    // The second attempt (its first message carries the merge feedback).
    json again = TaskTurn(marker, 0, {Call("write_file", {{"path", file}, {"content", "v2\n"}})});
    again["when"]["last_message_contains"] = "fail on the merged tree";
    turns.push_back(again);
    for (auto& t : WriteThenFinish(marker, file, "v1\n")) turns.push_back(t);
  }
  StartServer(Script(turns), "[limits]\nparallel_tasks = 2\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string a = ReadFile("x/a.txt");
  std::string b = ReadFile("y/b.txt");
  // One task merged first; the other broke the merged tree and ran again.
  EXPECT_TRUE((a == "v1\n" && b == "v2\n") || (a == "v2\n" && b == "v1\n")) << a << b;
  std::string id = run.RunId();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE run_id = '" + id +
                        "' AND state = 'rolled_back' AND note = 'gates failed on the merged tree'"),
            "1");
  EXPECT_EQ(LedgerValue("SELECT group_concat(attempts) FROM (SELECT attempts FROM tasks WHERE "
                        "run_id = '" + id + "' ORDER BY attempts)"),
            "1,2");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM tasks WHERE run_id = '" + id +
                        "' AND state = 'done'"),
            "2");
}

TEST_F(ParallelRunTest, TwoTasksWhoseEditsConflictBothEndCorrect) {
  MakePassingRepo();
  WriteFile("shared.txt", "head\nbody\n");
  // Same file, so only `overlaps:` lets them run at once.
  WriteFile("plan.md", "# Plan: one file, two edits\n\n" +
                           TaskBlock("T1", "Head one", "Edit shared.txt [T1]",
                                     "  - scope: shared.txt\n  - overlaps: T2\n") +
                           TaskBlock("T2", "Head two", "Edit shared.txt [T2]",
                                     "  - scope: shared.txt\n"));
  CommitAll();
  std::vector<json> turns;
  for (const char* id : {"T1", "T2"}) {
    std::string marker = std::string("[") + id + "]";
    // Sent back after the conflict: it sees the other's edit and keeps both.
    json again = TaskTurn(marker, 0, {Call("write_file", {{"path", "shared.txt"},
                                                          {"content", "head T1 T2\nbody\n"}})});
    again["when"]["last_message_contains"] = "conflicts with the integrated tree";
    turns.push_back(again);
    auto first = WriteThenFinish(marker, "shared.txt",
                                 std::string("head ") + id + "\nbody\n");
    // Both in flight at once: each first reply waits a little.
    first[0]["faults"] =
        json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 800}}});
    for (auto& t : first) turns.push_back(t);
  }
  StartServer(Script(turns), "[limits]\nparallel_tasks = 2\n");

  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("shared.txt"), "head T1 T2\nbody\n");
  std::string id = run.RunId();
  EXPECT_EQ(LedgerValue("SELECT group_concat(attempts) FROM (SELECT attempts FROM tasks WHERE "
                        "run_id = '" + id + "' ORDER BY attempts)"),
            "1,2");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM tasks WHERE run_id = '" + id +
                        "' AND state = 'done'"),
            "2");
  std::string progress = ReadFile("progress.md");
  EXPECT_NE(progress.find("conflicts with the integrated tree (changed by tasks merged since it "
                          "started) in shared.txt"),
            std::string::npos)
      << progress;
}

// A storm of 429s from the provider while four tasks run at once: the
// provider's queue slows down for every agent (each 429 pauses the shared
// RateLimiter), its retries spend no max_retries, and no task is lost.
TEST_F(ParallelRunTest, A429StormDuringAParallelRunLosesNoTask) {
  MakePassingRepo();
  StartServer(Script(FourTasks(0)), "[limits]\nparallel_tasks = 4\n", "",
              {"--fault", "http_429:times=10,retry_after_ms=100"});
  TandemRun run = RunTandem({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const char* id : kIds) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  int throttled = 0;
  for (const json& r : Requests()) throttled += r.value("status", 0) == 429;
  EXPECT_EQ(throttled, 10);
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM tasks WHERE state = 'done'"), "4");
}

// An irreversible task waits for a person at the prompt while the three
// other tasks run, finish and merge; once approved it runs too.
TEST_F(ParallelRunTest, AnApprovalWaitingOnOneTaskDoesNotHoldBackTheOthers) {
  MakePassingRepo();
  std::string plan = "# Plan: three files and a deploy\n\n" +
                     TaskBlock("T0", "Deploy", "Write out/T0.txt [T0]",
                               "  - scope: out/T0.txt\n  - risk: irreversible\n");
  for (const char* id : {"T1", "T2", "T3"}) {
    plan += FileTask(id, std::string("out/") + id + ".txt");
  }
  WriteFile("plan.md", plan);
  CommitAll("plan");
  std::vector<json> turns;
  for (const char* id : {"T0", "T1", "T2", "T3"}) {
    for (auto& t : WriteThenFinish(std::string("[") + id + "]",
                                   std::string("out/") + id + ".txt", std::string(id) + "\n")) {
      turns.push_back(t);
    }
  }
  StartServer(Script(turns), "[limits]\nparallel_tasks = 4\n");

  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitFor("[y/N]")) << tandem.output();
  // The prompt stays open while the three others run, merge and finish.
  auto done = [&] {
    size_t n = 0;
    for (const json& e : tandem.Events("task_finished")) n += e.value("state", "") == "done";
    return n;
  };
  ASSERT_TRUE(tandem.WaitUntil([&] { return done() == 3; })) << tandem.Text();
  EXPECT_TRUE(tandem.Events("approval_decided").empty());
  tandem.Type("y go ahead");
  ASSERT_EQ(tandem.Wait(), 0) << tandem.Text();
  EXPECT_EQ(done(), 4u) << tandem.Text();
  for (const char* id : {"T0", "T1", "T2", "T3"}) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || decided_by FROM approvals WHERE task_id = 'T0'"),
            "approved person");
}

// Steering with tasks in flight: `--task T2` reaches T2's next step only;
// without --task, every running task's.
class ParallelSteerTest : public ParallelRunTest {
 protected:
  // Runs T1 and T2 at once (each first reply stalls), steers with `args`
  // once both started, and returns how many requests of each task (by its
  // marker) carried `note`.
  std::pair<int, int> SteerBoth(const std::vector<std::string>& args, const std::string& note) {
    InFlight([&] {
      std::vector<std::string> steer = {"steer"};
      steer.insert(steer.end(), args.begin(), args.end());
      steer.push_back(note);
      TandemRun steered = RunTandem(steer);
      EXPECT_EQ(steered.exit_code, 0) << steered.Describe();
    });
    std::pair<int, int> carried{0, 0};
    for (const json& r : Requests()) {
      std::string body = r["body"].dump();
      if (body.find(note) == std::string::npos) continue;
      if (body.find("[T1]") != std::string::npos) carried.first++;
      if (body.find("[T2]") != std::string::npos) carried.second++;
    }
    return carried;
  }

  // Runs T1 and T2 at once (each first reply stalls) and calls `while_both`
  // once both started; the run must then succeed.
  void InFlight(const std::function<void()>& while_both) {
    MakePassingRepo();
    WriteFile("plan.md", "# Plan: two\n\n" + FileTask("T1", "out/T1.txt") +
                             FileTask("T2", "out/T2.txt"));
    CommitAll("plan");
    std::vector<json> turns;
    for (const char* id : {"T1", "T2"}) {
      auto task = WriteThenFinish(std::string("[") + id + "]", std::string("out/") + id + ".txt",
                                  "x\n");
      task[0]["faults"] =
          json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 2500}}});
      for (auto& t : task) turns.push_back(t);
    }
    StartServer(Script(turns), "[limits]\nparallel_tasks = 2\n");
    TandemProcess process = SpawnTandem({"run", "--json"});
    std::set<std::string> started;
    EXPECT_TRUE(WaitForEvent(process, [&](const json& e) {
      if (e.value("type", "") == "task_started") started.insert(e.value("task", ""));
      return started.size() == 2;
    }));
    while_both();
    TandemRun run = WaitTandem(process);
    EXPECT_EQ(run.exit_code, 0) << run.Describe();
  }
};

TEST_F(ParallelSteerTest, StatusShowsEveryRunningTaskWithItsWorktree) {
  InFlight([&] {
    TandemRun status = RunTandem({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.Describe();
    json s = json::parse(status.out);
    EXPECT_EQ(s["running"], json::array({"T1", "T2"})) << status.out;
    for (const json& t : s["plan"]["tasks"]) {
      EXPECT_NE(t.value("detail", "").find("in worktree "), std::string::npos) << t.dump();
      EXPECT_NE(t.value("detail", "").find("/tandem/worktrees/"), std::string::npos) << t.dump();
    }
    EXPECT_NE(ReadFile("plan.md").find("- [~] T1"), std::string::npos);
    EXPECT_NE(ReadFile("plan.md").find("- [~] T2"), std::string::npos);
    std::string progress = ReadFile("progress.md");
    EXPECT_NE(progress.find("T1: Write out/T1.txt (running)"), std::string::npos) << progress;
    EXPECT_NE(progress.find("T2: Write out/T2.txt (running)"), std::string::npos) << progress;
  });
}
TEST_F(ParallelSteerTest, SteerToOneTaskReachesOnlyThatTask) {
  auto [t1, t2] = SteerBoth({"--task", "T2"}, "only-for-two");
  EXPECT_EQ(t1, 0);
  EXPECT_GE(t2, 1);
  EXPECT_EQ(LedgerValue("SELECT s.task_id FROM steer_notes n JOIN steps s ON "
                        "s.id = n.delivered_step_id WHERE n.task_id = 'T2'"),
            "T2");
}

TEST_F(ParallelSteerTest, SteerWithoutATaskReachesEveryRunningTask) {
  auto [t1, t2] = SteerBoth({}, "for-everyone");
  EXPECT_GE(t1, 1);
  EXPECT_GE(t2, 1);
}

TEST_F(ParallelSteerTest, SteerToAnUnknownTaskIsRefusedAndAddsNothing) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: one\n\n" + FileTask("T1", "out/T1.txt"));
  CommitAll("plan");
  TandemRun steered = RunTandem({"steer", "--task", "T9", "hello"});
  EXPECT_NE(steered.exit_code, 0);
  EXPECT_NE(steered.err.find("no task T9"), std::string::npos) << steered.Describe();
  EXPECT_EQ(ReadFile("progress.md").find("hello"), std::string::npos);
}

// kill -9 with tasks in flight (at a merge, too), then `tandem resume`: the
// same final tree as an uninterrupted run, a clean ledger, no worktrees left.
class ParallelResumeTest : public ParallelRunTest,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(ParallelResumeTest, KilledParallelRunResumesToTheSameTree) {
  MakePassingRepo();
  StartServer(Script(FourTasks(0)), "[limits]\nparallel_tasks = 4\n");
  TandemRun killed = RunTandem({"run", "--json"}, {{"TANDEM_TEST_KILL_POINT", GetParam()}});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  for (const char* id : kIds) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  std::string plan = ReadFile("plan.md");
  for (const char* id : kIds) {
    EXPECT_NE(plan.find(std::string("- [x] ") + id), std::string::npos) << plan;
  }
  EXPECT_EQ(Git("status --porcelain --untracked-files=all -- . ':!plan.md' ':!progress.md'"),
            "?? out/T1.txt\n?? out/T2.txt\n?? out/T3.txt\n?? out/T4.txt\n");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'"), "0");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM tasks WHERE state = 'done'"), "4");
  EXPECT_EQ(Git("worktree list --porcelain").find("tandem/worktrees"), std::string::npos);
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(root() + "/.git/tandem/worktrees", ec) || ec);
}

// A kill while an agent wrote a checkpoint ref of its own leaves a git
// lock under refs/tandem/runs/<run>.<task>.<attempt>/ (the crash matrix's
// parallel mode met one from a kill at a wall-clock offset); the task runs
// again under a new attempt, so resume must remove the lock itself.
TEST_F(ParallelRunTest, ResumeRemovesAStaleLockUnderAnAgentsOwnRefs) {
  MakePassingRepo();
  StartServer(Script(FourTasks(0)), "[limits]\nparallel_tasks = 4\n");
  TandemRun killed = RunTandem({"run", "--json"}, {{"TANDEM_TEST_KILL_POINT", "task_started:4"}});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();
  const std::string dir = root() + "/.git/refs/tandem/runs/" + killed.RunId() + ".T1.1";
  std::filesystem::create_directories(dir);
  WriteFile(".git/refs/tandem/runs/" + killed.RunId() + ".T1.1/1.lock", "");  // as git leaves it

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_FALSE(std::filesystem::exists(dir + "/1.lock"));
  for (const char* id : kIds) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
}

// A kill while a pooled worktree was created or reset (by an agent, or by
// a merge lane while the scheduler lands another) leaves
// refs/tandem/worktrees/<slot>.lock; resume must still remove that
// worktree and create the slot again (KilledParallelRunResumesToTheSameTree
// at merge_step_begun:1 once stopped on "worktree ... already exists").
TEST_F(ParallelRunTest, ResumeRemovesAStaleLockOfAPooledWorktreesRef) {
  MakePassingRepo();
  StartServer(Script(FourTasks(0)), "[limits]\nparallel_tasks = 4\n");
  TandemRun killed = RunTandem({"run", "--json"}, {{"TANDEM_TEST_KILL_POINT", "task_started:4"}});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe();
  WriteFile(".git/refs/tandem/worktrees/" + killed.RunId() + "-slot-2.lock", "");

  TandemRun resumed = RunTandem({"resume", "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  for (const char* id : kIds) {
    EXPECT_EQ(ReadFile(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  EXPECT_EQ(Git("worktree list --porcelain").find("tandem/worktrees"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(KillPoints, ParallelResumeTest,
                         ::testing::Values("task_started:4", "merge_step_begun:1",
                                           "merge_applied:2", "task_finished:3"));


// The live run's one input queue (orchestrator/ops.h) through the terminal:
// approvals answered by id, one task cancelled while the others go on.
class LiveOpsRunTest : public ParallelRunTest {
 protected:
  // Events of `type` for task `id`.
  static std::vector<json> For(const std::vector<json>& events, const std::string& id) {
    std::vector<json> out;
    for (const json& e : events) {
      if (e.value("task", "") == id) out.push_back(e);
    }
    return out;
  }
  static std::string StateOf(PtyTandem& tandem, const std::string& id) {
    auto finished = For(tandem.Events("task_finished"), id);
    return finished.empty() ? "" : finished.back().value("state", "");
  }

  // T1 and T2 each write out/<id>.txt; T1's finish reply stalls 20 s (a
  // cancel lands in it), T2's first reply `t2_stall_ms` (0: none).
  void TwoTasksWithT1Stalling(int parallel, int t2_stall_ms) {
    MakePassingRepo();
    WriteFile("plan.md", "# Plan: two\n\n" + FileTask("T1", "out/T1.txt") +
                             FileTask("T2", "out/T2.txt"));
    CommitAll("plan");
    auto stall = [](int ms) {
      return json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", ms}}});
    };
    std::vector<json> turns;
    for (const char* id : {"T1", "T2"}) {
      auto task =
          WriteThenFinish(std::string("[") + id + "]", std::string("out/") + id + ".txt", "x\n");
      if (std::string(id) == "T1") task[1]["faults"] = stall(20000);
      if (std::string(id) == "T2" && t2_stall_ms > 0) task[0]["faults"] = stall(t2_stall_ms);
      for (auto& t : task) turns.push_back(t);
    }
    StartServer(Script(turns), "[limits]\nparallel_tasks = " + std::to_string(parallel) + "\n");
  }

  // Types `/cancel T1` once T1's first step (its write) is done, and T2 has
  // started when `t2_started`; then T1 must end skipped with its file gone
  // and T2 done.
  void CancelT1AfterItsFirstStep(PtyTandem& tandem, bool t2_started) {
    ASSERT_TRUE(tandem.started());
    ASSERT_TRUE(tandem.WaitUntil([&] {
      return !For(tandem.Events("step_finished"), "T1").empty() &&
             (!t2_started || For(tandem.Events("task_started"), "T2").size() == 1);
    })) << tandem.Text();
    // In the checkout the write is there to be undone (a worktree's is not).
    if (!t2_started) {
      ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(root()) / "out/T1.txt"));
    }
    tandem.Type("/cancel T1");
    tandem.Wait();
    EXPECT_EQ(StateOf(tandem, "T1"), "skipped") << tandem.Text();
    EXPECT_EQ(StateOf(tandem, "T2"), "done") << tandem.Text();
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(root()) / "out/T1.txt"));
    EXPECT_EQ(ReadFile("out/T2.txt"), "x\n");
  }
};

// Two irreversible tasks ask at once; each prompt has its own id, and the
// second is answered first, by its id, without touching the first.
TEST_F(LiveOpsRunTest, TwoApprovalsOpenAtOnceAreAnsweredByIdInAnyOrder) {
  MakePassingRepo();
  std::string plan = "# Plan: two deploys\n\n";
  for (const char* id : {"T1", "T2"}) {
    plan += TaskBlock(id, std::string("Deploy ") + id,
                      std::string("Write out/") + id + ".txt [" + id + "]",
                      std::string("  - scope: out/") + id + ".txt\n  - risk: irreversible\n");
  }
  WriteFile("plan.md", plan);
  CommitAll("plan");
  std::vector<json> turns;
  for (const char* id : {"T1", "T2"}) {
    for (auto& t : WriteThenFinish(std::string("[") + id + "]", std::string("out/") + id + ".txt",
                                   std::string(id) + "\n")) {
      turns.push_back(t);
    }
  }
  StartServer(Script(turns), "[limits]\nparallel_tasks = 2\n");

  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitUntil([&] { return tandem.Events("approval_requested").size() == 2; }))
      << tandem.Text();
  std::map<std::string, int64_t> ids;
  for (const json& e : tandem.Events("approval_requested")) {
    ids[e.value("task", "")] = e.value("approval_id", int64_t{0});
  }
  ASSERT_GT(ids["T1"], 0);
  ASSERT_GT(ids["T2"], 0);
  ASSERT_NE(ids["T1"], ids["T2"]);
  // With both open, a bare "y" names no prompt: refused, nothing decided.
  tandem.Type("y");
  ASSERT_TRUE(tandem.WaitFor("are open: answer with the number")) << tandem.Text();
  EXPECT_TRUE(tandem.Events("approval_decided").empty());
  tandem.Type("n " + std::to_string(ids["T2"]) + " not this one");
  ASSERT_TRUE(tandem.WaitUntil([&] { return StateOf(tandem, "T2") == "skipped"; }))
      << tandem.Text();
  // T1's prompt is still open and undecided.
  EXPECT_TRUE(For(tandem.Events("approval_decided"), "T1").empty()) << tandem.Text();
  tandem.Type("y " + std::to_string(ids["T1"]) + " ship it");
  tandem.Wait();
  EXPECT_EQ(StateOf(tandem, "T1"), "done") << tandem.Text();
  EXPECT_EQ(ReadFile("out/T1.txt"), "T1\n");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(root()) / "out/T2.txt"));
  auto decided = For(tandem.Events("approval_decided"), "T1");
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].value("approval_id", int64_t{0}), ids["T1"]);
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || reason FROM approvals WHERE task_id = 'T1'"),
            "approved ship it");
  EXPECT_EQ(LedgerValue("SELECT decision || ' ' || reason FROM approvals WHERE task_id = 'T2'"),
            "denied not this one");
}

// `/cancel T1` while T1 and T2 both run in worktrees: T1's agent stops, its
// change is never merged and it ends skipped; T2 finishes as if alone.
TEST_F(LiveOpsRunTest, CancellingOneOfTwoRunningTasksStopsItAlone) {
  TwoTasksWithT1Stalling(/*parallel=*/2, /*t2_stall_ms=*/1500);
  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  CancelT1AfterItsFirstStep(tandem, /*t2_started=*/true);
  EXPECT_NE(ReadFile("plan.md").find("- [-] T1"), std::string::npos) << ReadFile("plan.md");
  EXPECT_NE(ReadFile("progress.md").find("cancelled by a person"), std::string::npos);
  // The run was not interrupted: no task_finished says so.
  for (const json& e : tandem.Events("task_finished")) {
    EXPECT_NE(e.value("state", ""), "interrupted") << e.dump();
  }
}

// `/cancel T2` while T2's result is gated on the merged tree in a merge
// lane (its gate held: check.sh sleeps on a tree holding both tasks' files,
// which only a merge lane has; T2 settles after T1): the lane's gate is
// stopped, T2's change never reaches the checkout and T2 ends skipped in
// plan.md, progress.md, the ledger and the events; T1 is done and the run
// ends as usual. Without the cancel reaching the lane, the gate sleeps its
// 20 s out, passes, and T2 lands.
TEST_F(LiveOpsRunTest, CancellingATaskWhoseMergedTreeIsBeingGatedDropsItsChange) {
  MakePassingRepo();
  WriteFile("check.sh",
            "#!/bin/sh\n"
            "if [ -f out/T1.txt ] && [ -f out/T2.txt ]; then touch gate.held; sleep 20; fi\n"
            "echo checks pass\n");
  WriteFile("plan.md",
            "# Plan: two\n\n" + FileTask("T1", "out/T1.txt") + FileTask("T2", "out/T2.txt"));
  CommitAll("plan");
  std::vector<json> turns;
  for (const char* id : {"T1", "T2"}) {
    auto task = WriteThenFinish(std::string("[") + id + "]", std::string("out/") + id + ".txt",
                                std::string(id) + "\n");
    if (std::string(id) == "T2") {
      task[1]["faults"] =
          json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 1500}}});
    }
    for (auto& t : task) turns.push_back(t);
  }
  StartServer(Script(turns), "[limits]\nparallel_tasks = 2\n");

  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  ASSERT_TRUE(tandem.started());
  const std::filesystem::path pool = std::filesystem::path(root()) / ".git/tandem/worktrees";
  ASSERT_TRUE(tandem.WaitUntil([&] {
    std::error_code ec;
    for (const auto& slot : std::filesystem::directory_iterator(pool, ec)) {
      if (std::filesystem::exists(slot.path() / "gate.held")) return true;
    }
    return false;
  })) << tandem.Text();
  tandem.Type("/cancel T2");
  EXPECT_EQ(tandem.Wait(), 0) << tandem.Text();
  EXPECT_EQ(StateOf(tandem, "T2"), "skipped") << tandem.Text();
  EXPECT_EQ(StateOf(tandem, "T1"), "done") << tandem.Text();
  EXPECT_FALSE(Exists("out/T2.txt"));
  EXPECT_EQ(ReadFile("out/T1.txt"), "T1\n");
  EXPECT_NE(ReadFile("plan.md").find("- [-] T2"), std::string::npos) << ReadFile("plan.md");
  EXPECT_NE(ReadFile("progress.md").find("cancelled by a person"), std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T2'"), "skipped");
  bool dropped = false;
  for (const json& e : tandem.Events("notice")) {
    if (e.value("text", "").find("task T2 was cancelled: its result leaves the merge queue") !=
        std::string::npos) {
      dropped = true;
    }
  }
  EXPECT_TRUE(dropped) << tandem.Text();
}

// In the checkout (parallel_tasks = 1) a cancelled task's finished steps
// are undone; the next task then runs.
TEST_F(LiveOpsRunTest, CancellingTheRunningTaskUndoesItsFinishedStepsAndTheRunGoesOn) {
  TwoTasksWithT1Stalling(/*parallel=*/1, /*t2_stall_ms=*/0);
  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  CancelT1AfterItsFirstStep(tandem, /*t2_started=*/false);
}

// A cancel that names no task of the plan is answered with the reason and
// changes nothing.
TEST_F(LiveOpsRunTest, CancellingAnUnknownTaskIsRefusedAtTheTerminal) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: one\n\n" + FileTask("T1", "out/T1.txt"));
  CommitAll("plan");
  auto task = WriteThenFinish("[T1]", "out/T1.txt", "x\n");
  task[1]["faults"] = json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 3000}}});
  StartServer(Script(task), "[limits]\nparallel_tasks = 1\n");
  PtyTandem tandem(root(), {"run", "--json"}, config_home());
  ASSERT_TRUE(tandem.started());
  ASSERT_TRUE(tandem.WaitUntil([&] { return !For(tandem.Events("step_finished"), "T1").empty(); }))
      << tandem.Text();
  tandem.Type("/cancel T9");
  ASSERT_TRUE(tandem.WaitFor("plan.md has no task T9")) << tandem.Text();
  EXPECT_EQ(tandem.Wait(), 0) << tandem.Text();
  EXPECT_EQ(StateOf(tandem, "T1"), "done");
}

}  // namespace
}  // namespace tandem::e2e
