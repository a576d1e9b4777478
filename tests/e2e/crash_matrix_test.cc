// Crash safety matrix (issue #4): a scripted five-task plan is run with
// `tandem run`, killed with SIGKILL at one of 60 points spread across the
// run, and continued with one `tandem resume`. Every point must end like an
// uninterrupted run: exit 0, the same final tree (every file but
// progress.md, whose wording records the interruption), no task that was
// done before the kill started again, each task 'done' once in the ledger,
// and a clean Ledger::IntegrityCheck.
//
// Kill points: 45 are "as soon as the Nth event of type X is on stdout",
// round robin over the types (model_delta: during a stream, tool_started:
// during a write or a command, gate_finished, step_finished, task_finished,
// model_call_finished, checkpoint_taken, tool_finished, step_started,
// task_started), N spread evenly over that type's occurrences
// in the reference run; 15 are wall-clock offsets spread over the
// reference run's duration, which land in between events: inside a gate,
// a command, a ledger, plan.md or progress.md write. The uninterrupted
// reference run is made once per process (the tree hash depends on the
// contents only). A summary of every point is printed at the end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr int kTasks = 5;
constexpr int kEventPoints = 45;
constexpr int kTimePoints = 15;
constexpr int kPoints = kEventPoints + kTimePoints;

std::string Marker(int task) { return "[tk" + std::to_string(task) + "]"; }
std::string TaskId(int task) { return "T" + std::to_string(task); }

// Some words for the model to stream before each tool call, so a kill
// can land in the middle of a stream.
std::string Chatter(int task, int turn) {
  std::string text = "Task " + std::to_string(task) + " turn " + std::to_string(turn) + ":";
  for (int i = 0; i < 24; ++i) text += " word" + std::to_string(i);
  return text + ".";
}

// The reference run, made once per process.
struct Reference {
  bool made = false;
  std::string tree;                // see TreeOf
  std::string plan;                // final plan.md
  std::vector<std::string> types;  // event types in order
  int64_t wall_ms = 0;
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
  std::string known;  // an expected failure: a reported, not yet fixed bug
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
      std::printf("  %2d %-60s %s%s\n", r.point, r.label.c_str(),
                  !r.passed ? "FAIL" : r.known.empty() ? "ok" : "KNOWN BUG ", r.known.c_str());
    }
  }

 protected:
  // The plan: T1..T5 in a chain; each writes src/fN.txt, runs a command
  // that generates out/gN.txt, then finishes; the `check` gate runs after
  // every step and each task's own check command at its end.
  void MakeRepo() {
    WriteFile("README.md", "# crash matrix\n");
    WriteFile("check.sh", "#!/bin/sh\nsleep 0.02\necho checks pass\n");
    WriteFile("gen.sh", "#!/bin/sh\nsleep 0.05\nmkdir -p out\necho \"generated $1\" > out/g$1.txt\n");
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
    WriteFile("plan.md", plan);
    CommitAll("plan");
  }

  json MakeScript() {
    std::vector<json> turns;
    for (int t = 1; t <= kTasks; ++t) {
      std::string n = std::to_string(t);
      json write = TaskTurn(Marker(t), 0,
                            {Call("write_file", {{"path", "src/f" + n + ".txt"},
                                                 {"content", "file " + n + "\n"}})});
      write["text"] = Chatter(t, 0);
      json command = TaskTurn(Marker(t), 1, {Call("run_command", {{"command", "sh gen.sh " + n}})});
      command["text"] = Chatter(t, 1);
      json finish = TaskTurn(Marker(t), 2, {Call("finish", {{"summary", "task " + n + " done"}})});
      finish["text"] = Chatter(t, 2);
      turns.push_back(write);
      turns.push_back(command);
      turns.push_back(finish);
    }
    json script = Script(turns);
    // Slow enough that streams last ~10-20 ms each: kills land inside them.
    script["tokens_per_second"] = 3000;
    script["ttft_ms"] = 15;
    return script;
  }

  // The tree of every file in the work tree but progress.md (tracked or
  // not, .tandem/ excluded), hashed through a throwaway index so the
  // user's index is never touched.
  std::string TreeOf(bool skip_temp_files = false) {
    std::string index = OutsidePath("tree-index");
    std::string command = "cd '" + root() + "' && rm -f '" + index + "' && GIT_INDEX_FILE='" +
                          index + "' git add -A -- . ':!progress.md'" +
                          (skip_temp_files ? " ':!**/*.tandem-tmp.*' ':!*.tandem-tmp.*'" : "") +
                          " && GIT_INDEX_FILE='" +
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

  // Lines of the process's stdout so far.
  int LineCount(const TandemProcess& process) {
    std::string out = Slurp(process.out_path);
    return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
  }

  bool Exited(const TandemProcess& process) {
    siginfo_t info{};
    return ::waitid(P_PID, process.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == process.pid;
  }

  void MakeReference() {
    Reference& ref = TheReference();
    if (ref.made) return;
    auto start = std::chrono::steady_clock::now();
    TandemRun run = RunTandem({"run", "--json"});
    ref.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
    ASSERT_EQ(static_cast<int>(run.Events("task_finished").size()), kTasks) << run.Describe();
    for (const auto& e : run.events) ref.types.push_back(e.value("type", ""));
    ref.tree = TreeOf();
    ref.plan = ReadFile("plan.md");
    ASSERT_FALSE(ref.tree.empty());
    ref.made = true;
  }
};

TEST_P(CrashMatrixTest, KillNineThenResumeEndsLikeAnUninterruptedRun) {
  const int point = GetParam();
  MakeRepo();
  StartServer(MakeScript());
  if (!TheReference().made) {
    MakeReference();
    ASSERT_TRUE(TheReference().made);
    // Back to the committed state for this point's own run.
    Git("reset -q --hard");
    Git("clean -q -ffdx");
    Git("for-each-ref --format='delete %(refname)' refs/tandem | git update-ref --stdin");
    StartServer(MakeScript());
  }
  const Reference& ref = TheReference();
  const int total = static_cast<int>(ref.types.size());

  PointResult result;
  result.point = point;
  int kill_after_events = 0;
  int64_t kill_at_ms = 0;
  if (point < kEventPoints) {
    // Round robin over the event types, spread evenly over each type's
    // occurrences; never after run_finished (the process would be gone).
    std::vector<std::string> kinds;
    for (const char* kind : {"model_delta", "tool_started", "gate_finished", "step_finished",
                             "task_finished", "model_call_finished", "checkpoint_taken",
                             "tool_finished", "step_started", "task_started"}) {
      if (std::count(ref.types.begin(), ref.types.end(), kind) > 0) kinds.emplace_back(kind);
    }
    const int n_kinds = static_cast<int>(kinds.size());
    const std::string& kind = kinds[point % n_kinds];
    const int per_kind = (kEventPoints + n_kinds - 1) / n_kinds;
    std::vector<int> at;  // 1-based positions of `kind`
    for (int i = 0; i + 1 < total; ++i) {
      if (ref.types[i] == kind) at.push_back(i + 1);
    }
    const int m = static_cast<int>(at.size());
    const int nth = std::min(m - 1, ((point / n_kinds) * m + m / (2 * per_kind)) / per_kind);
    kill_after_events = at[nth];
    result.label = "after " + kind + " #" + std::to_string(nth + 1) + "/" + std::to_string(m) +
                   " (event " + std::to_string(kill_after_events) + ")";
  } else {
    // Over the first 90% of the reference run (the end varies from run to run).
    kill_at_ms = (2 * (point - kEventPoints) + 1) * ref.wall_ms * 9 / (20 * kTimePoints);
    result.label = "at " + std::to_string(kill_at_ms) + " ms of " + std::to_string(ref.wall_ms);
  }

  auto fail = [&](const std::string& why) {
    if (result.why.empty()) result.why = why;
  };

  TandemProcess process = SpawnTandem({"run", "--json"});
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (Exited(process)) break;
    if (kill_after_events > 0) {
      if (LineCount(process) >= kill_after_events) break;
    } else if (std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(kill_at_ms)) {
      break;
    }
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(30)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(process.pid, SIGKILL);
  TandemRun killed = WaitTandem(process);
  const size_t requests_at_kill = Requests().size();
  if (!killed.events.empty()) result.label += " last=" + killed.events.back().value("type", "");

  // Tasks done before the kill: by event or by checkbox.
  std::set<std::string> done_before;
  for (const json& e : killed.Events("task_finished")) {
    if (e.value("state", "") == "done") done_before.insert(e.value("task", ""));
  }
  std::string plan_at_kill = ReadFile("plan.md");
  for (int t = 1; t <= kTasks; ++t) {
    if (plan_at_kill.find("- [x] " + TaskId(t) + ":") != std::string::npos) {
      done_before.insert(TaskId(t));
    }
  }

  TandemRun resumed;
  const bool finished_before_kill = killed.term_signal != SIGKILL;
  if (finished_before_kill) {
    // The run was faster than the reference this time: nothing to resume,
    // the end state is still checked.
    result.label += " (finished before the kill)";
    resumed = killed;
  } else if (killed.RunId().empty()) {
    // Killed before the run existed: there is nothing to resume, and the
    // user starts it again.
    resumed = RunTandem({"resume", "--json"});
    if (resumed.exit_code == 2) {
      result.label += " (no run yet: tandem run again)";
      resumed = RunTandem({"run", "--json"});
    }
  } else {
    resumed = RunTandem({"resume", "--json"});
  }
  if (resumed.exit_code != 0) {
    fail("resume exit " + std::to_string(resumed.exit_code) + ": " +
         resumed.err.substr(0, 300) + resumed.Finished().value("summary", ""));
  }
  std::string tree = TreeOf();
  if (tree != ref.tree) {
    std::string status = Git("status --short --untracked-files=all");
    if (TreeOf(/*skip_temp_files=*/true) == ref.tree) {
      // Known bug (reported): an atomic write's temp file outlives a kill.
      result.known = "leftover temp file: " + status;
    } else {
      fail("final tree differs: " + status);
    }
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
    int turn = turn_value.get<int>();
    std::string task = TaskId(turn / 3 + 1);
    if (done_before.count(task)) fail("model asked for " + task + " after it was done");
  }
  std::string states = LedgerValue(
      "SELECT group_concat(task_id || ':' || state, ' ') FROM (SELECT * FROM tasks ORDER BY "
      "task_id)");
  if (states != "T1:done T2:done T3:done T4:done T5:done") fail("ledger tasks: " + states);
  if (LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'") != "1") {
    fail("runs: " + LedgerValue("SELECT count(*) FROM runs WHERE kind = 'run'"));
  }
  if (LedgerValue("SELECT count(*) FROM steps WHERE state = 'running'") != "0") {
    fail("steps left running");
  }
  auto ledger = OpenLedger();
  if (ledger == nullptr) {
    fail("ledger does not open");
  } else {
    auto problems = ledger->IntegrityCheck();
    if (!problems.has_value()) {
      fail("integrity check: " + problems.error().ToString());
    } else if (!problems->empty()) {
      fail("integrity: " + problems->front());
    }
  }
  result.passed = result.why.empty();
  Results().push_back(result);
  EXPECT_TRUE(result.passed) << result.label << ": " << result.why << "\n"
                             << resumed.Describe();
}

INSTANTIATE_TEST_SUITE_P(Points, CrashMatrixTest, ::testing::Range(0, kPoints));

}  // namespace
}  // namespace tandem::e2e
