// Crash safety matrix (issue #4, #7): a scripted five-task plan is run with
// `tandem run`, killed with SIGKILL at one of N points (TANDEM_CRASH_POINTS,
// default 100; the long mode is 500), and continued with one
// `tandem resume`. Every point must end like an uninterrupted run: exit 0,
// the same final tree (every file but progress.md, whose wording records
// the interruption; so an append done twice shows), plan.md the same, no
// task that was done before the kill started again or asked of the model
// again, each task 'done' once in the ledger, a clean
// Ledger::IntegrityCheck (PRAGMA integrity_check and the ledger's own
// invariants), `git fsck` clean, no git lock file, no temp file in the
// work tree or in the runs' own TMPDIR, and no process left running in the
// repository.
//
// Kill points (docs/PERFORMANCE.md §8):
// - 75%: exact points. tandem kills itself (TANDEM_TEST_KILL_POINT,
//   src/tandem/base/kill_point.h) the n-th time it reaches a named point:
//   right after an event's --json line (every event type), between an
//   atomic write's complete temp file and its rename (plan.md, progress.md),
//   inside a rollback's restore after each path. Round robin over the
//   names the reference run reached, spread over each name's occurrences.
//   Task T3's first step writes a file the gate rejects, so the run holds a
//   rollback; T6 fails every step, and the planner splits it (a plan edit
//   merged into plan.md).
// - 15%: wall-clock offsets over 90% of the reference run, killed from
//   outside: they land in between points (inside a gate, a command, a
//   ledger write).
// - 10%: `tandem undo` of a finished `tandem do`, killed at its exact
//   points (inside the restore), then `tandem undo` again: the tree must be
//   the one before the `do`.
// The uninterrupted reference runs are made once per process (the tree hash
// depends on the contents only). A summary of every point is printed at
// the end.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kTasks = 5;       // T1..T5, then T6, which the planner splits
constexpr int kBrokenTask = 3;  // its first step is rolled back
// Every run's config: one retry per step, so T6 fails and is re-planned.
// TANDEM_CRASH_PARALLEL=N runs the plan with limits.parallel_tasks = N:
// each task in a worktree, merged into the checkout (its tasks form a
// chain, so one runs at a time, but every kill lands in the parallel path).
const std::string kLimits = [] {
  std::string limits = "\n[limits]\nstep_retries = 1\n";
  const char* parallel = std::getenv("TANDEM_CRASH_PARALLEL");
  if (parallel != nullptr && std::atoi(parallel) > 1) {
    limits += "parallel_tasks = " + std::to_string(std::atoi(parallel)) + "\n";
  }
  return limits;
}();
const char kLedgerTasks[] =
    "T1:done T2:done T3:done T4:done T5:done T6:skipped T6a:done T6b:done";

int PointCount() {
  const char* env = std::getenv("TANDEM_CRASH_POINTS");
  int n = env != nullptr ? std::atoi(env) : 0;
  return n >= 20 ? n : 100;
}
int UndoPoints() { return PointCount() / 10; }
int TimePoints() { return PointCount() * 15 / 100; }
int ExactPoints() { return PointCount() - UndoPoints() - TimePoints(); }

std::string Marker(int task) { return "[tk" + std::to_string(task) + "]"; }
std::string TaskId(int task) { return "T" + std::to_string(task); }
const char kUndoMarker[] = "[undo-me]";

// Some words for the model to stream before each tool call, so a kill
// can land in the middle of a stream.
std::string Chatter(int task, int turn) {
  std::string text = "Task " + std::to_string(task) + " turn " + std::to_string(turn) + ":";
  for (int i = 0; i < 24; ++i) text += " word" + std::to_string(i);
  return text + ".";
}

// Kill point names in the order reached (TANDEM_TEST_KILL_POINT_LOG).
std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The n-th of `per_name` points spread over the occurrences of the names in
// `reached` (round robin over the names, evenly over each one's
// occurrences). Returns {name, 1-based occurrence}; `skip` names are never
// chosen.
std::pair<std::string, int> SpreadPoint(const std::vector<std::string>& reached, int index,
                                        int count, const std::set<std::string>& skip) {
  std::vector<std::string> names;
  for (const std::string& r : reached) {
    if (!skip.count(r) && std::find(names.begin(), names.end(), r) == names.end()) {
      names.push_back(r);
    }
  }
  if (names.empty()) return {"", 0};
  const int n_names = static_cast<int>(names.size());
  const std::string& name = names[index % n_names];
  const int per_name = (count + n_names - 1) / n_names;
  const int m = static_cast<int>(std::count(reached.begin(), reached.end(), name));
  const int nth = std::min(m - 1, ((index / n_names) * m + m / (2 * per_name)) / per_name);
  return {name, nth + 1};
}

// The reference runs, made once per process.
struct Reference {
  bool made = false;
  std::string tree;                 // see TreeOf
  std::string plan;                 // final plan.md
  std::vector<std::string> points;  // kill points reached by `tandem run`, in order
  int64_t wall_ms = 0;
  std::string before_do_tree;            // the tree before `tandem do`
  std::vector<std::string> undo_points;  // kill points reached by `tandem undo`
};
Reference& TheReference() {
  static Reference reference;
  return reference;
}

struct PointResult {
  int point = 0;
  std::string label;
  bool passed = false;
  std::string why;
};
std::vector<PointResult>& Results() {
  static std::vector<PointResult> results;
  return results;
}

class CrashMatrixTest : public E2eTest, public ::testing::WithParamInterface<int> {
 public:
  static void TearDownTestSuite() {
    int passed = 0;
    std::string failed;
    for (const auto& r : Results()) {
      if (r.passed) {
        passed++;
      } else {
        failed += "  point " + std::to_string(r.point) + " (" + r.label + "): " + r.why + "\n";
      }
    }
    std::printf("crash matrix: %d of %zu kill points passed\n%s", passed, Results().size(),
                failed.c_str());
    for (const auto& r : Results()) {
      std::printf("  %3d %-70s %s\n", r.point, r.label.c_str(), r.passed ? "ok" : "FAIL");
    }
  }

 protected:
  CrashMatrixTest() {
    tmp_ = OutsidePath("tmp");
    fs::create_directories(tmp_);
  }

  // The plan: T1..T5 in a chain; each writes src/fN.txt, runs a command
  // that generates out/gN.txt and appends to out/log.txt, then finishes;
  // the `check` gate runs after every step (and fails while a src file
  // says BROKEN) and each task's own check command at its end.
  void MakeRepo() {
    WriteFile("README.md", "# crash matrix\n");
    WriteFile("check.sh",
              "#!/bin/sh\nsleep 0.02\n"
              "if grep -q BROKEN src/*.txt 2>/dev/null; then echo a file is broken; exit 1; fi\n"
              "echo checks pass\n");
    WriteFile("gen.sh",
              "#!/bin/sh\nsleep 0.05\nmkdir -p out\necho \"generated $1\" > out/g$1.txt\n"
              "echo \"ran gen $1\" >> out/log.txt\n");
    WriteVerifyMd({{"check", "sh check.sh"}});
    std::string plan = "# Plan: crash matrix\n\n";
    for (int t = 1; t <= kTasks; ++t) {
      plan += TaskBlock(TaskId(t), "Step " + std::to_string(t),
                        "Write src/f" + std::to_string(t) + ".txt and generate out/g" +
                            std::to_string(t) + ".txt " + Marker(t),
                        "  - accept: gates all; check `test -f out/g" + std::to_string(t) +
                            ".txt`\n",
                        t == 1 ? "—" : TaskId(t - 1));
    }
    plan += TaskBlock("T6", "Too big", "Write src/f6.txt [tk6]", "", TaskId(kTasks));
    WriteFile("plan.md", plan);
    CommitAll("plan");
  }

  // The script; turn_tasks_[i] is the task whose request turn i answers.
  json MakeScript() {
    std::vector<json> turns;
    turn_tasks_.clear();
    auto add = [&](json turn, const std::string& task) {
      turns.push_back(std::move(turn));
      turn_tasks_.push_back(task);
    };
    // First: a re-plan request also holds T6's marker.
    add(ReplanTurn("SPLIT: two smaller steps\n\n" +
                   TaskBlock("T6a", "Half A", "Write src/f6a.txt [tk6a]") +
                   TaskBlock("T6b", "Half B", "Write src/f6b.txt [tk6b]", "", "T6a")),
        "planner");
    for (int t = 1; t <= kTasks; ++t) {
      std::string n = std::to_string(t);
      std::vector<json> writes = {
          Call("write_file", {{"path", "src/f" + n + ".txt"},
                              {"content", t == kBrokenTask ? "BROKEN\n" : "file " + n + "\n"}})};
      if (t == kBrokenTask) {
        writes.push_back(Call("write_file", {{"path", "src/f" + n + "b.txt"}, {"content", "b\n"}}));
        writes.push_back(Call("edit_file", {{"path", "README.md"},
                                            {"old_text", "matrix"},
                                            {"new_text", "matrix, edited"}}));
      }
      json write = TaskTurn(Marker(t), 0, writes);
      write["text"] = Chatter(t, 0);
      json command = TaskTurn(Marker(t), 1, {Call("run_command", {{"command", "sh gen.sh " + n}})});
      command["text"] = Chatter(t, 1);
      json finish = TaskTurn(Marker(t), 2, {Call("finish", {{"summary", "task " + n + " done"}})});
      finish["text"] = Chatter(t, 2);
      add(write, TaskId(t));
      add(command, TaskId(t));
      add(finish, TaskId(t));
    }
    // The halves before T6: their requests may quote T6's failure.
    for (const std::string half : {"a", "b"}) {
      for (auto& t : WriteThenFinish("[tk6" + half + "]", "src/f6" + half + ".txt",
                                     "half " + half + "\n")) {
        add(t, "T6" + half);
      }
    }
    add(TaskTurn("[tk6]", kAnyTurn,
                 {Call("write_file", {{"path", "src/f6.txt"}, {"content", "BROKEN\n"}})}),
        "T6");
    // `tandem do` for the undo points: several files and an edit, then a
    // command.
    std::vector<json> undo_writes;
    for (int i = 1; i <= 4; ++i) {
      std::string n = std::to_string(i);
      undo_writes.push_back(
          Call("write_file", {{"path", "undo/u" + n + ".txt"}, {"content", "undo " + n + "\n"}}));
    }
    undo_writes.push_back(Call("edit_file", {{"path", "README.md"},
                                             {"old_text", "matrix"},
                                             {"new_text", "matrix, undone"}}));
    add(TaskTurn(kUndoMarker, 0, undo_writes), "do");
    add(TaskTurn(kUndoMarker, 1, {Call("run_command", {{"command", "sh gen.sh 9"}})}), "do");
    add(TaskTurn(kUndoMarker, 2, {Call("finish", {{"summary", "undo task done"}})}), "do");
    json script = Script(turns);
    // Slow enough that streams last ~10-20 ms each: kills land inside them.
    script["tokens_per_second"] = 3000;
    script["ttft_ms"] = 15;
    return script;
  }

  // Every run's environment: a private TMPDIR (checked empty at the end),
  // and optionally a kill point or a log of the points reached.
  std::map<std::string, std::string> Env(const std::string& kill_point = "",
                                         const std::string& log = "") const {
    std::map<std::string, std::string> env{{"TMPDIR", tmp_}};
    if (!kill_point.empty()) env["TANDEM_TEST_KILL_POINT"] = kill_point;
    if (!log.empty()) env["TANDEM_TEST_KILL_POINT_LOG"] = log;
    return env;
  }

  // The tree of every file in the work tree but progress.md (tracked or
  // not, .tandem/ excluded), hashed through a throwaway index so the
  // user's index is never touched.
  std::string TreeOf() {
    std::string index = OutsidePath("tree-index");
    std::string command = "cd '" + root() + "' && rm -f '" + index + "' && GIT_INDEX_FILE='" +
                          index + "' git add -A -- . ':!progress.md' && GIT_INDEX_FILE='" +
                          index + "' git write-tree";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    std::string out;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    ::pclose(pipe);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  bool Exited(const TandemProcess& process) {
    siginfo_t info{};
    return ::waitid(P_PID, process.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == process.pid;
  }

  // Back to the committed state, without checkpoints or ledger (the ledger
  // lives in the git directory, which clean leaves alone), and the config
  // for the running server.
  void ResetRepo() {
    Git("reset -q --hard");
    Git("clean -q -ffdx");
    for (const char* name : {"ledger.db", "ledger.db-wal", "ledger.db-shm"}) {
      std::error_code ec;
      fs::remove(fs::path(root()) / ".git/tandem" / name, ec);
    }
    Git("for-each-ref --format='delete %(refname)' refs/tandem | git update-ref --stdin");
    WriteConfig(kLimits);
  }

  void MakeReference() {
    Reference& ref = TheReference();
    if (ref.made) return;
    const std::string log = OutsidePath("points.log");
    auto start = std::chrono::steady_clock::now();
    TandemRun run = RunTandem({"run", "--json"}, Env("", log));
    ref.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
    ASSERT_EQ(LedgerValue("SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT * FROM "
                          "tasks ORDER BY task_id)"),
              kLedgerTasks)
        << run.Describe();
    ASSERT_FALSE(run.Events("escalated").empty()) << "no re-plan in the reference run";
    ASSERT_FALSE(run.Events("step_rolled_back").empty()) << "no rollback in the reference run";
    ref.points = ReadLines(log);
    ref.tree = TreeOf();
    ref.plan = ReadFile("plan.md");
    ASSERT_FALSE(ref.tree.empty());

    ResetRepo();
    ref.before_do_tree = TreeOf();
    const std::string undo_log = OutsidePath("undo-points.log");
    TandemRun done = RunTandem({"do", "--json", std::string("Write the undo files ") + kUndoMarker},
                               Env());
    ASSERT_EQ(done.exit_code, 0) << done.Describe();
    TandemRun undone = RunTandem({"undo"}, Env("", undo_log));
    ASSERT_EQ(undone.exit_code, 0) << undone.Describe();
    ASSERT_EQ(TreeOf(), ref.before_do_tree) << "the reference undo does not restore the tree";
    ref.undo_points = ReadLines(undo_log);
    ASSERT_FALSE(ref.undo_points.empty());
    ref.made = true;
    ResetRepo();
  }

  // What a kill may leave behind and a finished resume must have cleaned:
  // "" when nothing is left, else what is.
  std::string Leftovers() {
    std::string found;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(tmp_, ec)) {
      found += " temp file " + e.path().string() + ";";
    }
    // tandem's own scratch space under the git directory (index copies).
    const fs::path scratch = fs::path(root()) / ".git/tandem-tmp";
    for (const auto& e : fs::recursive_directory_iterator(scratch, ec)) {
      found += " temp file " + e.path().string() + ";";
    }
    // tandem's writer lock file stays (an flock on it is the lock): it
    // must not be held. Any other *.lock under .git is git's, left behind.
    const fs::path writer_lock = fs::path(root()) / ".git/tandem/writer.lock";
    for (const auto& e : fs::recursive_directory_iterator(fs::path(root()) / ".git", ec)) {
      if (e.path().extension() != ".lock") continue;
      if (e.path() != writer_lock) {
        found += " git lock " + e.path().string() + ";";
        continue;
      }
      int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) found += " writer lock still held;";
      if (fd >= 0) ::close(fd);
    }
    // A process whose working directory is in the repository (a gate or a
    // command the killed run started), other than this test.
    const fs::path repo = fs::canonical(root(), ec);
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (std::stoi(pid) == ::getpid()) continue;
      std::error_code cwd_ec;
      fs::path cwd = fs::read_symlink(e.path() / "cwd", cwd_ec);
      if (cwd_ec) continue;
      auto [end, unused] = std::mismatch(repo.begin(), repo.end(), cwd.begin(), cwd.end());
      if (end == repo.end()) {
        std::ifstream cmdline(e.path() / "cmdline", std::ios::binary);
        std::string argv0;
        std::getline(cmdline, argv0, '\0');
        if (!argv0.empty()) found += " process " + pid + " (" + argv0 + ") still runs;";
      }
    }
    return found;
  }

  // The checks every point ends with, on the repository as it is.
  void CheckStore(const std::function<void(const std::string&)>& fail) {
    bool fsck_ok = false;
    Git("fsck --no-progress --no-dangling", &fsck_ok);
    if (!fsck_ok) fail("git fsck found a problem");
    std::string left = Leftovers();
    if (!left.empty()) fail("left behind:" + left);
    auto ledger = OpenLedger();
    if (ledger == nullptr) {
      fail("ledger does not open");
      return;
    }
    auto problems = ledger->IntegrityCheck();
    if (!problems.has_value()) {
      fail("integrity check: " + problems.error().ToString());
    } else if (!problems->empty()) {
      fail("integrity: " + problems->front());
    }
  }

  void RunUndoPoint(int index, PointResult& result,
                    const std::function<void(const std::string&)>& fail);

  std::string tmp_;  // TMPDIR of every tandem process of the test
  std::vector<std::string> turn_tasks_;
};

void CrashMatrixTest::RunUndoPoint(int index, PointResult& result,
                                   const std::function<void(const std::string&)>& fail) {
  const Reference& ref = TheReference();
  auto [name, nth] = SpreadPoint(ref.undo_points, index, UndoPoints(), {"run_finished"});
  result.label = "undo: at " + name + " #" + std::to_string(nth);
  TandemRun done =
      RunTandem({"do", "--json", std::string("Write the undo files ") + kUndoMarker}, Env());
  if (done.exit_code != 0) return fail("do exit " + std::to_string(done.exit_code));
  TandemRun killed = RunTandem({"undo"}, Env(name + ":" + std::to_string(nth)));
  if (killed.term_signal != SIGKILL) result.label += " (not reached)";
  TandemRun again = RunTandem({"undo"}, Env());
  if (again.exit_code != 0) {
    fail("second undo exit " + std::to_string(again.exit_code) + ": " + again.err.substr(0, 300));
  }
  if (TreeOf() != ref.before_do_tree) {
    fail("tree after undo differs from before the do: " +
         Git("status --short --untracked-files=all"));
  }
  CheckStore(fail);
}

TEST_P(CrashMatrixTest, KillNineThenResumeEndsLikeAnUninterruptedRun) {
  const int point = GetParam();
  MakeRepo();
  StartServer(MakeScript(), kLimits);
  if (!TheReference().made) {
    MakeReference();
    ASSERT_TRUE(TheReference().made);
    StartServer(MakeScript(), kLimits);  // a fresh recording for this point's own runs
  }
  const Reference& ref = TheReference();

  PointResult result;
  result.point = point;
  auto fail = [&](const std::string& why) {
    if (result.why.empty()) result.why = why;
  };
  auto finish = [&] {
    result.passed = result.why.empty();
    Results().push_back(result);
    EXPECT_TRUE(result.passed) << result.label << ": " << result.why;
  };

  if (point >= ExactPoints() + TimePoints()) {
    RunUndoPoint(point - ExactPoints() - TimePoints(), result, fail);
    return finish();
  }

  TandemProcess process;
  if (point < ExactPoints()) {
    // Never after run_finished: the run would be over.
    auto [name, nth] = SpreadPoint(ref.points, point, ExactPoints(), {"run_finished"});
    result.label = "at " + name + " #" + std::to_string(nth);
    process = SpawnTandem({"run", "--json"}, Env(name + ":" + std::to_string(nth)));
  } else {
    // Over the first 90% of the reference run (the end varies from run to run).
    const int k = point - ExactPoints();
    const int64_t kill_at_ms = (2 * k + 1) * ref.wall_ms * 9 / (20 * TimePoints());
    result.label = "at " + std::to_string(kill_at_ms) + " ms of " + std::to_string(ref.wall_ms);
    process = SpawnTandem({"run", "--json"}, Env());
    auto start = std::chrono::steady_clock::now();
    while (!Exited(process) &&
           std::chrono::steady_clock::now() - start < std::chrono::milliseconds(kill_at_ms)) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    ::kill(process.pid, SIGKILL);
  }
  TandemRun killed = WaitTandem(process);
  const size_t requests_at_kill = Requests().size();
  if (!killed.events.empty()) result.label += " last=" + killed.events.back().value("type", "");

  // Tasks done before the kill: by event or by checkbox.
  std::set<std::string> done_before;
  for (const json& e : killed.Events("task_finished")) {
    if (e.value("state", "") == "done") done_before.insert(e.value("task", ""));
  }
  std::string plan_at_kill = ReadFile("plan.md");
  for (const char* id : {"T1", "T2", "T3", "T4", "T5", "T6a", "T6b"}) {
    if (plan_at_kill.find(std::string("- [x] ") + id + ":") != std::string::npos) {
      done_before.insert(id);
    }
  }

  TandemRun resumed;
  const bool finished_before_kill =
      killed.term_signal != SIGKILL || !killed.Finished().empty();
  if (finished_before_kill) {
    // The point was not reached this time (a stream cut into fewer
    // deltas), the run was faster than the reference, or the kill came
    // after run_finished (the ledger had ended the run): nothing to
    // resume, the end state is still checked.
    result.label += killed.term_signal != SIGKILL ? " (finished before the kill)"
                                                  : " (killed after run_finished)";
    resumed = killed;
    if (killed.term_signal == SIGKILL) {
      resumed.exit_code = killed.Finished().value("outcome", "") == "succeeded" ? 0 : 1;
    }
  } else if (killed.RunId().empty()) {
    // Killed before the run existed: there is nothing to resume, and the
    // user starts it again.
    resumed = RunTandem({"resume", "--json"}, Env());
    if (resumed.exit_code == 2) {
      result.label += " (no run yet: tandem run again)";
      resumed = RunTandem({"run", "--json"}, Env());
    }
  } else {
    resumed = RunTandem({"resume", "--json"}, Env());
  }
  if (resumed.exit_code != 0) {
    fail("resume exit " + std::to_string(resumed.exit_code) + ": " +
         resumed.err.substr(0, 300) + resumed.Finished().value("summary", ""));
  }
  if (TreeOf() != ref.tree) {
    fail("final tree differs (out/log.txt: " + ReadFile("out/log.txt") +
         "): " + Git("status --short --untracked-files=all"));
  }
  if (ReadFile("plan.md") != ref.plan) fail("plan.md differs:\n" + ReadFile("plan.md"));
  // (When the run finished before the kill, `resumed` is that same run: its
  // own task_started events came before each task was done.)
  for (const json& e : resumed.Events("task_started")) {
    if (!finished_before_kill && done_before.count(e.value("task", ""))) {
      fail("task " + e.value("task", "") + " started again after it was done");
    }
  }
  // The scripted turns answered after the kill: none belongs to a done task.
  auto requests = Requests();
  for (size_t i = requests_at_kill; i < requests.size(); ++i) {
    const json& turn_value = requests[i]["turn"];
    if (!turn_value.is_number_integer()) continue;
    size_t turn = turn_value.get<size_t>();
    if (turn >= turn_tasks_.size()) continue;
    const std::string& task = turn_tasks_[turn];
    if (done_before.count(task)) fail("model asked for " + task + " after it was done");
  }
  std::string states = LedgerValue(
      "SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT * FROM tasks ORDER BY "
      "task_id)");
  if (states != kLedgerTasks) fail("ledger tasks: " + states);
  if (LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'") != "1") {
    fail("runs: " + LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'"));
  }
  if (LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'") != "0") {
    fail("steps left running");
  }
  CheckStore(fail);
  if (!result.why.empty()) result.why += "\n" + resumed.Describe();
  finish();
}

INSTANTIATE_TEST_SUITE_P(Points, CrashMatrixTest, ::testing::Range(0, PointCount()));

}  // namespace
}  // namespace tandem::e2e
