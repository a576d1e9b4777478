// The plan runner's scheduling loop (plan_runner.cc) over its TaskQueue, in
// process: a real git repository, ledger, workspace, worktrees and gates
// (under the sandbox), with the model as the only stand-in (ScriptedModel).
// What the TaskQueue tests cannot show: that the runner keeps to its
// capacity, that a failure goes through the queue's hook to escalation and
// then blocks its dependents, that a merge conflict hands the task back to
// run again on the integrated tree, that an edit of plan.md mid-run
// reaches the queue, and the merge queue's lanes: agents settle and start
// while a merged tree is gated, a lane gated on top of one that fails is
// gated again without it, and a task cancelled in the merge queue (waiting,
// or in a lane) is dropped from it.
#include "tandem/orchestrator/plan_runner.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "tandem/base/clock.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/memory/plan_md.h"
#include "tandem/workspace/test_repo.h"

namespace tandem::orchestrator {
namespace {

using nlohmann::json;

// Answers each request with what `script` says for the plan task it serves
// (the @@ID@@ marker of the task's `do` text in its first message; "" for
// none) and its turn (assistant messages so far). Thread-safe.
class ScriptedModel : public providers::ModelClient {
 public:
  using Script = std::function<protocol::ModelResponse(const std::string& task, int turn)>;
  explicit ScriptedModel(Script script) : script_(std::move(script)) {}

  std::unique_ptr<providers::PendingReply> Start(const protocol::ModelRequest& request,
                                                 providers::StreamObserver*) override {
    std::string task = TaskOf(request);
    int turn = 0;
    for (const protocol::Message& m : request.messages) {
      if (m.role == protocol::Role::kAssistant) turn++;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_[task]++;
    }
    if (on_request) on_request(task, turn, request);
    protocol::ModelResponse reply = script_(task, turn);
    if (after_reply) after_reply(task, reply);
    return std::make_unique<Ready>(std::move(reply));
  }

  int Total() const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [task, count] : requests_) n += count;
    return n;
  }

  int Requests(const std::string& task) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = requests_.find(task);
    return it == requests_.end() ? 0 : it->second;
  }

  // Called on the requesting thread before the script / after it answered.
  std::function<void(const std::string& task, int turn, const protocol::ModelRequest&)> on_request;
  std::function<void(const std::string& task, const protocol::ModelResponse&)> after_reply;

 private:
  class Ready : public providers::PendingReply {
   public:
    explicit Ready(protocol::ModelResponse reply) : reply_(std::move(reply)) {}
    Result<protocol::ModelResponse, protocol::ModelError> Wait() override { return reply_; }
    void Cancel() override {}

   private:
    protocol::ModelResponse reply_;
  };

  static std::string TaskOf(const protocol::ModelRequest& request) {
    for (const protocol::Message& m : request.messages) {
      size_t at = m.text.find("@@");
      if (at == std::string::npos) continue;
      size_t end = m.text.find("@@", at + 2);
      if (end != std::string::npos) return m.text.substr(at + 2, end - at - 2);
    }
    return "";
  }

  Script script_;
  mutable std::mutex mu_;
  std::map<std::string, int> requests_;
};

protocol::ToolCall Call(const std::string& name, json args, int n) {
  protocol::ToolCall call;
  call.id = "call-" + std::to_string(n);
  call.name = name;
  call.arguments_json = args.dump();
  call.arguments = std::move(args);
  return call;
}

protocol::ModelResponse Reply(std::vector<protocol::ToolCall> calls, std::string text = "") {
  protocol::ModelResponse r;
  r.model = "scripted";
  r.text = std::move(text);
  r.tool_calls = std::move(calls);
  r.stop_reason =
      r.tool_calls.empty() ? protocol::StopReason::kEndTurn : protocol::StopReason::kToolUse;
  return r;
}

// The executor of a task that works: writes out/<ID>.txt, then finishes.
protocol::ModelResponse Works(const std::string& task, int turn) {
  if (turn == 0) {
    return Reply(
        {Call("write_file", {{"path", "out/" + task + ".txt"}, {"content", task + "\n"}}, turn)});
  }
  return Reply({Call("finish", {{"summary", "wrote out/" + task + ".txt"}}, turn)});
}

// The executor of a task that never works: it claims to be done at once,
// and its check (out/<ID>.txt exists) says no, until the retry budget is
// spent.
protocol::ModelResponse ClaimsDone(const std::string& task, int turn) {
  return Reply({Call("finish", {{"summary", "done, honestly"}}, turn)});
}

// A task block writing out/<id>.txt, checked by its existence.
std::string Task(const std::string& id, const std::string& after = "—") {
  return "- [ ] " + id + ": Write out/" + id + ".txt\n  - do: Write out/" + id + ".txt @@" + id +
         "@@\n  - scope: out/" + id + ".txt\n  - accept: gates none; check `test -f out/" + id +
         ".txt`\n  - after: " + after + "\n\n";
}

// Records events; `on_notice` (optional) sees each notice's text as it is
// published, on the publishing thread.
class EventLog : public protocol::EventSink {
 public:
  void Publish(const protocol::Event& event) override {
    std::function<void(const std::string&)> hook;
    std::string text;
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(event);
      hook = on_notice;
      if (const auto* n = std::get_if<protocol::Notice>(&event.payload)) text = n->text;
    }
    if (hook && !text.empty()) hook(text);
  }

  std::vector<std::string> Notices() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const protocol::Event& e : events_) {
      if (const auto* n = std::get_if<protocol::Notice>(&e.payload)) out.push_back(n->text);
    }
    return out;
  }

  std::function<void(const std::string&)> on_notice;  // set before the run

 private:
  std::mutex mu_;
  std::vector<protocol::Event> events_;
};

class PlanRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README.md", "a repository\n");
    auto path = ledger::LedgerPathFor(repo_.root());
    ASSERT_TRUE(path) << path.error().ToString();
    auto opened = ledger::Ledger::Open({.path = *path, .clock = WallClockMs});
    ASSERT_TRUE(opened) << opened.error().ToString();
    ledger_ = std::move(*opened);
  }

  void WritePlan(const std::string& tasks) {
    repo_.Write("plan.md", "# Plan: files\n\n" + tasks);
    repo_.CommitAll("plan");
  }

  // RunPlan with `executor` on both tiers unless `slow` is given.
  PlanRunResult Run(int parallel_tasks, ScriptedModel& executor, ScriptedModel* slow = nullptr,
                    ScriptedModel* planner = nullptr, int max_escalations = 2,
                    agent::InterruptHub* interrupts = nullptr, LiveOps* ops = nullptr) {
    RunnerEnv env;
    env.interrupts = interrupts;
    env.ops = ops;
    env.repo_root = repo_.root().string();
    env.config.limits.parallel_tasks = parallel_tasks;
    env.executor = {"fast", {}, "scripted", &executor};
    env.slow = {"slow", {}, "scripted", slow ? slow : &executor};
    env.planner = {"planner", {}, "scripted", planner};
    env.events = &events_;
    env.ledger = ledger_.get();
    env.policy.max_escalations = max_escalations;
    if (unsandboxed_) env.config.sandbox.mode = config::SandboxMode::kNone;
    auto result = RunPlan(env);
    EXPECT_TRUE(result) << result.error().ToString();
    return result ? *result : PlanRunResult{};
  }

  memory::TaskState StateOf(const std::string& id) {
    auto plan = memory::LoadPlan(repo_.root() / "plan.md");
    EXPECT_TRUE(plan) << plan.error().ToString();
    const memory::PlanTask* t = plan ? plan->Find(id) : nullptr;
    EXPECT_NE(t, nullptr) << id;
    return t ? t->state : memory::TaskState::kPending;
  }

  workspace::testing::TestRepo repo_;
  std::unique_ptr<ledger::Ledger> ledger_;
  EventLog events_;
  bool unsandboxed_ = false;  // gates that wait on files outside the repository
};

// With parallel_tasks = 2 and four independent tasks, two agents work at
// once and never three: the first two tasks' executors meet before either
// answers, and a task's model calls never overlap those of two others.
TEST_F(PlanRunnerTest, KeepsParallelTasksAgentsAtOnceAndNoMore) {
  WritePlan(Task("T1") + Task("T2") + Task("T3") + Task("T4"));
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> in_flight;  // between a task's first request and its finish reply
  size_t most = 0;
  bool met = false;
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn, const protocol::ModelRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    if (turn != 0) return;
    in_flight.insert(task);
    most = std::max(most, in_flight.size());
    if (in_flight.size() >= 2) met = true;
    cv.notify_all();
    // The first two wait for each other (a bound only against a hang).
    cv.wait_for(lock, std::chrono::minutes(2), [&] { return met; });
  };
  executor.after_reply = [&](const std::string& task, const protocol::ModelResponse& reply) {
    if (reply.tool_calls.empty() || reply.tool_calls[0].name != "finish") return;
    std::lock_guard<std::mutex> lock(mu);
    in_flight.erase(task);
  };
  PlanRunResult result = Run(2, executor);
  EXPECT_TRUE(met) << "the first two tasks never ran at once";
  EXPECT_EQ(most, 2u);
  EXPECT_EQ(result.done, 4);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  for (const char* id : {"T1", "T2", "T3", "T4"}) {
    EXPECT_EQ(repo_.Read(std::string("out/") + id + ".txt"), std::string(id) + "\n");
    EXPECT_EQ(StateOf(id), memory::TaskState::kDone) << id;
  }
}

// A task that fails goes through the queue's failure hook to the planner,
// which sends it to the slow tier; it fails there too, the escalation
// budget (1) is spent and it fails for good. The task that depends on it
// never starts, the independent one is done: in the checkout
// (parallel_tasks = 1) and in worktrees (2) alike.
class PlanRunnerFailureTest : public PlanRunnerTest, public ::testing::WithParamInterface<int> {};

TEST_P(PlanRunnerFailureTest, AFailedTaskIsEscalatedThenBlocksItsDependentsOnly) {
  WritePlan(Task("T1") + Task("T2", "T1") + Task("T3"));
  ScriptedModel executor([](const std::string& task, int turn) {
    return task == "T1" ? ClaimsDone(task, turn) : Works(task, turn);
  });
  ScriptedModel slow(ClaimsDone);
  ScriptedModel planner([](const std::string&, int) {
    return Reply({}, "ESCALATE: a stronger model may manage it");
  });
  PlanRunResult result = Run(GetParam(), executor, &slow, &planner, /*max_escalations=*/1);

  EXPECT_EQ(result.done, 1);
  EXPECT_EQ(result.failed, 1);
  EXPECT_EQ(result.blocked, 1);
  EXPECT_EQ(result.exit_code, protocol::kExitTaskFailed);
  EXPECT_EQ(StateOf("T1"), memory::TaskState::kFailed);
  EXPECT_EQ(StateOf("T2"), memory::TaskState::kPending);
  EXPECT_EQ(StateOf("T3"), memory::TaskState::kDone);
  EXPECT_GT(executor.Requests("T1"), 0);
  EXPECT_GT(slow.Requests("T1"), 0) << "not escalated to the slow tier";
  EXPECT_EQ(planner.Total(), 1) << "one re-plan, then the budget is spent";
  EXPECT_EQ(executor.Requests("T2") + slow.Requests("T2"), 0) << "a blocked task ran";
  auto counts = ledger_->EscalationCounts(result.run_id);
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ((*counts)["T1"], 1);
  EXPECT_FALSE(repo_.Exists("out/T1.txt"));
  EXPECT_EQ(repo_.Read("out/T3.txt"), "T3\n");
}

INSTANTIATE_TEST_SUITE_P(InCheckoutAndInWorktrees, PlanRunnerFailureTest, ::testing::Values(1, 2));

// plan.md is the record the queue follows: a task a person adds while the
// run goes on (here, during T1's first model call) runs in the same run,
// after the task it depends on.
TEST_F(PlanRunnerTest, ATaskAddedToPlanMdMidRunRunsInTheSameRun) {
  WritePlan(Task("T1"));
  ScriptedModel executor(Works);
  bool added = false;
  executor.on_request = [&](const std::string& task, int turn, const protocol::ModelRequest&) {
    if (task != "T1" || turn != 0 || added) return;
    added = true;
    std::string text = repo_.Read("plan.md");
    repo_.Write("plan.md", text + Task("T9", "T1"));
  };
  PlanRunResult result = Run(1, executor);
  ASSERT_TRUE(added);
  EXPECT_EQ(result.done, 2);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(StateOf("T9"), memory::TaskState::kDone);
  EXPECT_EQ(repo_.Read("out/T9.txt"), "T9\n");
}

// A task writing shared.txt, which the plan lets run beside `other`.
std::string Shared(const std::string& id, const std::string& other) {
  return "- [ ] " + id + ": Write shared.txt\n  - do: Write shared.txt @@" + id +
         "@@\n  - scope: shared.txt\n  - overlaps: " + other +
         "\n  - accept: gates none; check `test -f shared.txt`\n  - after: —\n\n";
}

// Two tasks the plan lets overlap write the same new file at once: the
// first merged wins, the other's merge conflicts and the queue hands it
// back; it runs again on the integrated tree with the conflict as feedback,
// and its content is the file's in the end. Both are done.
TEST_F(PlanRunnerTest, AMergeConflictRequeuesTheTaskOnTheIntegratedTree) {
  WritePlan(Shared("T1", "T2") + Shared("T2", "T1"));
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> started;
  std::set<std::string> told;  // tasks whose first request carried the conflict
  ScriptedModel executor([](const std::string& task, int turn) {
    if (turn == 0)
      return Reply({Call("write_file", {{"path", "shared.txt"}, {"content", task + "\n"}}, 0)});
    return Reply({Call("finish", {{"summary", "wrote shared.txt"}}, turn)});
  });
  executor.on_request = [&](const std::string& task, int turn,
                            const protocol::ModelRequest& request) {
    if (turn != 0) return;
    std::unique_lock<std::mutex> lock(mu);
    for (const protocol::Message& m : request.messages) {
      if (m.text.find("could not be merged into the integrated tree") != std::string::npos) {
        told.insert(task);
      }
    }
    if (!started.insert(task).second) return;  // a rerun: nobody to wait for
    cv.notify_all();
    // Both write before either is merged (a bound only against a hang).
    cv.wait_for(lock, std::chrono::minutes(2), [&] { return started.size() >= 2; });
  };
  PlanRunResult result = Run(2, executor);
  EXPECT_EQ(result.done, 2);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  ASSERT_EQ(told.size(), 1u) << "exactly one task is requeued with the conflict";
  const std::string rerun = *told.begin();
  EXPECT_EQ(repo_.Read("shared.txt"), rerun + "\n");
  auto tasks = ledger_->ListTasks(result.run_id);
  ASSERT_TRUE(tasks) << tasks.error().ToString();
  for (const ledger::TaskRow& t : *tasks) {
    EXPECT_EQ(t.attempts, t.task_id == rerun ? 2 : 1) << t.task_id;
    EXPECT_EQ(t.state, ledger::TaskState::kDone) << t.task_id;
  }
}

// ---- The merge queue (plan_runner_merge.cc) ----
//
// Its tests hold a merged tree's gates until the test has seen what it
// wants to happen meanwhile. Each task's check is `sh <dir>/gate.sh ID`,
// run unsandboxed (it reads <dir>, outside the repository): it counts its
// runs in <dir>/ID.runs; the run numbered in <dir>/ID.hold waits until
// <dir>/ID.go exists (bounded against a hang: then it writes ID.gaveup);
// it fails when out/ID.txt is missing, or when <dir>/ID.breaks-with names a
// task whose file is in the tree too and out/ID.txt does not say "fixed".
class MergeQueueTest : public PlanRunnerTest {
 protected:
  void SetUp() override {
    PlanRunnerTest::SetUp();
    std::string pattern = (std::filesystem::temp_directory_path() / "mq-gates-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Put("gate.sh",
        "#!/bin/sh\n"
        "d=$(dirname \"$0\"); id=$1\n"
        "echo run >> \"$d/$id.runs\"\n"
        "n=$(wc -l < \"$d/$id.runs\")\n"
        "if [ -e \"$d/$id.hold\" ] && [ \"$n\" -eq \"$(cat \"$d/$id.hold\")\" ]; then\n"
        "  i=0\n"
        "  while [ ! -e \"$d/$id.go\" ]; do\n"
        "    i=$((i + 1))\n"
        "    if [ $i -gt 6000 ]; then echo gave up > \"$d/$id.gaveup\"; break; fi\n"
        "    sleep 0.02\n"
        "  done\n"
        "fi\n"
        "[ -f \"out/$id.txt\" ] || { echo \"no out/$id.txt\"; exit 1; }\n"
        "if [ -e \"$d/$id.breaks-with\" ]; then\n"
        "  other=$(cat \"$d/$id.breaks-with\")\n"
        "  if [ -f \"out/$other.txt\" ] && ! grep -q fixed \"out/$id.txt\"; then\n"
        "    echo \"out/$id.txt breaks with out/$other.txt\"; exit 1\n"
        "  fi\n"
        "fi\n");
    unsandboxed_ = true;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Put(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
  }
  bool Has(const std::string& name) { return std::filesystem::exists(dir_ / name); }
  int Runs(const std::string& id) {
    std::ifstream in(dir_ / (id + ".runs"));
    int n = 0;
    for (std::string line; std::getline(in, line);) n++;
    return n;
  }

  // A task writing out/<id>.txt, checked by gate.sh.
  std::string GatedTask(const std::string& id) {
    return "- [ ] " + id + ": Write out/" + id + ".txt\n  - do: Write out/" + id + ".txt @@" +
           id + "@@\n  - scope: out/" + id + ".txt\n  - accept: gates none; check `sh " +
           (dir_ / "gate.sh").string() + " " + id + "`\n  - after: —\n\n";
  }

  // Waits (on a condition variable fed by the event log) until a notice
  // containing every one of `parts` has been published.
  void AwaitNotice(const std::vector<std::string>& parts) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::minutes(2), [&] {
      for (const std::string& n : notices_) {
        bool all = true;
        for (const std::string& p : parts) all = all && n.find(p) != std::string::npos;
        if (all) return true;
      }
      return false;
    });
  }
  // Feeds AwaitNotice; `also` (optional) runs on each notice too.
  void WatchNotices(std::function<void(const std::string&)> also = {}) {
    events_.on_notice = [this, also](const std::string& text) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        notices_.push_back(text);
      }
      cv_.notify_all();
      if (also) also(text);
    };
  }
  bool Noticed(const std::vector<std::string>& parts) {
    for (const std::string& n : events_.Notices()) {
      bool all = true;
      for (const std::string& p : parts) all = all && n.find(p) != std::string::npos;
      if (all) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> notices_;
};

// A merged tree's gates do not hold up the scheduler: while T1's merge
// lane is gated (its check held), T2 settles, gives its slot to T4, and T4
// makes its first model call; only that releases T1's gates. (A runner
// that gates merges on the scheduler thread settles nothing meanwhile: the
// gate would wait out its bound and say so in T1.gaveup.)
TEST_F(MergeQueueTest, AgentsSettleAndStartWhileAMergedTreeIsGated) {
  WritePlan(GatedTask("T1") + GatedTask("T2") + GatedTask("T3") + GatedTask("T4"));
  Put("T1.hold", "2\n");  // T1's second check run: its merge lane's
  WatchNotices();
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn, const protocol::ModelRequest&) {
    if (task == "T2" && turn == 1) AwaitNotice({"merging task(s) T1 "});
    if (task == "T4" && turn == 0) Put("T1.go", "");
  };
  PlanRunResult result = Run(2, executor);
  EXPECT_FALSE(Has("T1.gaveup")) << "T1's merged tree was gated on the scheduler thread";
  EXPECT_TRUE(Has("T1.go")) << "T4 never started";
  EXPECT_EQ(result.done, 4);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  for (const char* id : {"T1", "T2", "T3", "T4"}) {
    EXPECT_EQ(repo_.Read(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
    EXPECT_EQ(StateOf(id), memory::TaskState::kDone) << id;
  }
}

// Three lanes at once: T1's (the head, its gates held), T2's on top of it,
// T3's on top of both. T2 breaks the tree with T1 in it, so its lane
// fails; T3's lane was gated on a tree holding T2's change, so it is
// discarded and gated again without it, and T3 is done without running
// again. T2, the breaking task, is the one that runs again (on the
// integrated tree, with the gates' feedback) and ends fixed.
TEST_F(MergeQueueTest, ALaneGatedOnTopOfAFailingLaneIsGatedAgainWithoutIt) {
  WritePlan(GatedTask("T1") + GatedTask("T2") + GatedTask("T3"));
  Put("T1.hold", "2\n");
  Put("T2.breaks-with", "T1");
  WatchNotices([this](const std::string& text) {
    // T3's lane has joined the queue, on top of T1's and T2's.
    if (text.find("merging task(s) T3 ") != std::string::npos &&
        text.find("speculatively on top of task(s) T1, T2") != std::string::npos) {
      Put("T1.go", "");
    }
  });
  std::mutex told_mu;
  std::set<std::string> told;  // tasks whose first request carried the merge feedback
  ScriptedModel executor([&](const std::string& task, int turn) {
    bool fix = false;
    {
      std::lock_guard<std::mutex> lock(told_mu);
      fix = told.count(task) > 0;
    }
    if (turn == 0) {
      return Reply({Call("write_file",
                         {{"path", "out/" + task + ".txt"}, {"content", fix ? "fixed\n" : task + "\n"}},
                         0)});
    }
    return Reply({Call("finish", {{"summary", "wrote out/" + task + ".txt"}}, turn)});
  });
  executor.on_request = [&](const std::string& task, int turn,
                            const protocol::ModelRequest& request) {
    if (turn == 0) {
      for (const protocol::Message& m : request.messages) {
        if (m.text.find("fail on the merged tree") != std::string::npos) {
          std::lock_guard<std::mutex> lock(told_mu);
          told.insert(task);
        }
      }
    }
    // T1 settles first, then T2 (once T1's lane is gated), then T3 (once
    // T2's lane is).
    if (turn == 1 && task == "T2") AwaitNotice({"merging task(s) T1 "});
    if (turn == 1 && task == "T3") AwaitNotice({"merging task(s) T2 "});
  };
  PlanRunResult result = Run(3, executor);

  EXPECT_FALSE(Has("T1.gaveup")) << "T3's lane never went on top of T1's and T2's";
  EXPECT_TRUE(Noticed({"merging task(s) T2 ", "speculatively on top of task(s) T1"}));
  EXPECT_TRUE(Noticed({"T3", "gated again without the merge ahead of them"}));
  EXPECT_EQ(result.done, 3);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(told, std::set<std::string>{"T2"});
  EXPECT_EQ(repo_.Read("out/T1.txt"), "T1\n");
  EXPECT_EQ(repo_.Read("out/T2.txt"), "fixed\n");
  EXPECT_EQ(repo_.Read("out/T3.txt"), "T3\n");
  auto tasks = ledger_->ListTasks(result.run_id);
  ASSERT_TRUE(tasks) << tasks.error().ToString();
  for (const ledger::TaskRow& t : *tasks) {
    EXPECT_EQ(t.attempts, t.task_id == "T2" ? 2 : 1) << t.task_id;
    EXPECT_EQ(t.state, ledger::TaskState::kDone) << t.task_id;
  }
  auto steps = ledger_->ListSteps(result.run_id);
  ASSERT_TRUE(steps) << steps.error().ToString();
  std::map<std::string, int> rejected, landed;
  for (const ledger::StepRow& s : *steps) {
    if (s.note == "gates failed on the merged tree") rejected[s.task_id]++;
    if (s.note == "merged into the integrated tree") landed[s.task_id]++;
  }
  EXPECT_EQ(rejected, (std::map<std::string, int>{{"T2", 1}}));
  EXPECT_EQ(landed, (std::map<std::string, int>{{"T1", 1}, {"T2", 1}, {"T3", 1}}));
}

// T1's merge lane is being gated (its check held) and T2's lane is gated
// speculatively on top of it, on a tree where T2 breaks (it breaks with
// T1). A person cancels T1: T1's lane and T2's are stopped, their worktrees
// go back to the pool (no third slot is made), and T2 is gated again on the
// integrated tree, without T1, where it passes and lands at its first
// attempt. T1 ends skipped, its file never in the checkout. (A cancel that
// does not reach the lane leaves T1's gate held until its bound, then T1
// lands and T2 fails on the merged tree and runs again.)
TEST_F(MergeQueueTest, ACancelledTasksLaneStopsAndTheLaneOnTopIsGatedAgainWithoutIt) {
  WritePlan(GatedTask("T1") + GatedTask("T2"));
  Put("T1.hold", "2\n");  // T1's second check run: its merge lane's
  Put("T2.breaks-with", "T1");
  WatchNotices();
  LiveOps ops;
  std::optional<Status> cancelled;
  std::thread person([&] {
    AwaitNotice({"merging task(s) T2 ", "speculatively on top of task(s) T1"});
    cancelled = ops.Submit({protocol::OpKind::kCancel, 0, "T1", "", "test"}).status;
  });
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn, const protocol::ModelRequest&) {
    if (task == "T2" && turn == 1) AwaitNotice({"merging task(s) T1 "});
  };
  PlanRunResult result = Run(2, executor, nullptr, nullptr, 2, nullptr, &ops);
  person.join();

  ASSERT_TRUE(cancelled.has_value());
  EXPECT_TRUE(cancelled->ok()) << cancelled->ToString();
  EXPECT_FALSE(Has("T1.gaveup")) << "the cancel did not stop T1's lane";
  EXPECT_TRUE(Noticed({"task T1 was cancelled"}));
  EXPECT_TRUE(Noticed({"task(s) T2 are gated again without cancelled task(s) T1"}));
  for (const std::string& n : events_.Notices()) {
    EXPECT_EQ(n.find("-slot-3"), std::string::npos) << "a lane's worktree was not released: " << n;
  }
  EXPECT_EQ(result.done, 1);
  EXPECT_EQ(result.skipped, 1);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(StateOf("T1"), memory::TaskState::kSkipped);
  EXPECT_EQ(StateOf("T2"), memory::TaskState::kDone);
  EXPECT_FALSE(repo_.Exists("out/T1.txt"));
  EXPECT_EQ(repo_.Read("out/T2.txt"), "T2\n");
  EXPECT_NE(repo_.Read("progress.md").find("cancelled by a person"), std::string::npos);
  auto tasks = ledger_->ListTasks(result.run_id);
  ASSERT_TRUE(tasks) << tasks.error().ToString();
  for (const ledger::TaskRow& t : *tasks) {
    EXPECT_EQ(t.attempts, 1) << t.task_id;
    EXPECT_EQ(t.state, t.task_id == "T1" ? ledger::TaskState::kSkipped : ledger::TaskState::kDone)
        << t.task_id;
  }
  auto steps = ledger_->ListSteps(result.run_id);
  ASSERT_TRUE(steps) << steps.error().ToString();
  std::map<std::string, int> rejected, landed;
  for (const ledger::StepRow& s : *steps) {
    if (s.note == "gates failed on the merged tree") rejected[s.task_id]++;
    if (s.note == "merged into the integrated tree") landed[s.task_id]++;
  }
  EXPECT_TRUE(rejected.empty());
  EXPECT_EQ(landed, (std::map<std::string, int>{{"T2", 1}}));
}

// Two lanes are being gated (T1's, held, and T2's on top: the most at
// parallel_tasks = 2), so T3's result waits in the merge queue. A person
// cancels T3 there: it ends skipped while T1's gate is still held, its
// result is never gated on a merged tree, and T1 and T2 land.
TEST_F(MergeQueueTest, ACancelledTaskWaitingInTheMergeQueueIsDroppedThere) {
  WritePlan(GatedTask("T1") + GatedTask("T2") + GatedTask("T3"));
  Put("T1.hold", "2\n");
  WatchNotices();
  LiveOps ops;
  std::optional<Status> cancelled;
  std::thread person([&] {
    AwaitNotice({"task T3 waits in the merge queue"});
    cancelled = ops.Submit({protocol::OpKind::kCancel, 0, "T3", "", "test"}).status;
    AwaitNotice({"task T3 was cancelled"});
    Put("T1.go", "");  // T1's gate goes on only now
  });
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn, const protocol::ModelRequest&) {
    // T1 settles first, then T2 (once T1's lane is gated), then T3 (once
    // T2's lane is).
    if (task == "T2" && turn == 1) AwaitNotice({"merging task(s) T1 "});
    if (task == "T3" && turn == 1) AwaitNotice({"merging task(s) T2 "});
  };
  PlanRunResult result = Run(2, executor, nullptr, nullptr, 2, nullptr, &ops);
  person.join();

  ASSERT_TRUE(cancelled.has_value());
  EXPECT_TRUE(cancelled->ok()) << cancelled->ToString();
  EXPECT_FALSE(Has("T1.gaveup"));
  EXPECT_EQ(Runs("T3"), 1) << "T3's result was gated on a merged tree";
  EXPECT_EQ(result.done, 2);
  EXPECT_EQ(result.skipped, 1);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(StateOf("T3"), memory::TaskState::kSkipped);
  for (const char* id : {"T1", "T2"}) {
    EXPECT_EQ(StateOf(id), memory::TaskState::kDone) << id;
    EXPECT_EQ(repo_.Read(std::string("out/") + id + ".txt"), std::string(id) + "\n") << id;
  }
  EXPECT_FALSE(repo_.Exists("out/T3.txt"));
}

// A task of `n` variants writing out/<id>.txt.
std::string FanTask(const std::string& id, int n) {
  std::string t = Task(id);
  return t.insert(t.find("  - after:"), "  - variants: " + std::to_string(n) + "\n");
}

// Which variant a request is from: the temperature ladder tells them apart.
std::string VariantOf(const protocol::ModelRequest& request) {
  return request.temperature ? std::to_string(*request.temperature) : "default";
}

// Meets `count` first requests of `task`'s variants: each waits until all
// have arrived (a bound only against a hang), then `when_met` runs once, on
// the last one's thread, before any of them is answered.
class VariantRendezvous {
 public:
  VariantRendezvous(std::string task, size_t count, std::function<void()> when_met = {})
      : task_(std::move(task)), count_(count), when_met_(std::move(when_met)) {}
  // For ScriptedModel::on_request.
  void OnRequest(const std::string& task, int turn, const protocol::ModelRequest& request) {
    if (turn != 0) return;
    std::unique_lock<std::mutex> lock(mu_);
    if (task == task_) {
      seen_.insert(VariantOf(request));
    } else {
      others_.insert(task);
    }
    if (seen_.size() + others_.size() == count_ && !met_) {
      lock.unlock();
      if (when_met_) when_met_();
      lock.lock();
      met_ = true;
      cv_.notify_all();
      return;
    }
    cv_.wait_for(lock, std::chrono::minutes(2), [&] { return met_; });
  }
  bool met() {
    std::lock_guard<std::mutex> lock(mu_);
    return met_;
  }
  size_t variants() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
  }

 private:
  const std::string task_;
  const size_t count_;
  std::function<void()> when_met_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> seen_, others_;
  bool met_ = false;
};

class PlanRunnerFanoutTest : public PlanRunnerTest {
 protected:
  std::vector<ledger::VariantRow> Variants(const std::string& fanout) {
    auto fan = ledger::FanoutLedger::Open(*ledger_, WallClockMs);
    EXPECT_TRUE(fan) << fan.error().ToString();
    if (!fan) return {};
    auto rows = (*fan)->ListVariants(fanout);
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows ? *rows : std::vector<ledger::VariantRow>{};
  }
  bool WorktreesLeft() {
    auto git = ledger::GitCommonDir(repo_.root());
    EXPECT_TRUE(git) << git.error().ToString();
    std::error_code ec;
    auto dir = *git / "tandem" / "worktrees";
    return std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec);
  }
};

// A fan-out task takes one of parallel_tasks' slots: with 2 slots, its
// three variants and another task are in flight at once (four agents).
// Both end done, and the fan-out's variants are its ledger run's.
TEST_F(PlanRunnerFanoutTest, AFanOutTaskTakesOneSlotWhateverItsVariants) {
  WritePlan(FanTask("T1", 3) + Task("T2"));
  VariantRendezvous meet("T1", 4);
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn,
                            const protocol::ModelRequest& request) {
    meet.OnRequest(task, turn, request);
  };
  PlanRunResult result = Run(2, executor);
  EXPECT_TRUE(meet.met()) << "the three variants and T2 were never in flight at once";
  EXPECT_EQ(meet.variants(), 3u);
  EXPECT_EQ(result.done, 2);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(repo_.Read("out/T1.txt"), "T1\n");
  EXPECT_EQ(repo_.Read("out/T2.txt"), "T2\n");
  auto variants = Variants(result.run_id + ".T1.1");
  ASSERT_EQ(variants.size(), 3u);
  for (const auto& v : variants) EXPECT_EQ(v.state, ledger::VariantState::kPassed) << v.n;
  EXPECT_FALSE(WorktreesLeft());
}

// Ctrl-C while a fan-out task's variants run stops them all: the run ends
// interrupted, the task goes back to [ ] for `tandem resume`, its variants
// are not left running, nothing reaches the checkout, no worktree is left.
TEST_F(PlanRunnerFanoutTest, CtrlCStopsEveryVariantOfAFanOutTask) {
  WritePlan(FanTask("T1", 3));
  agent::InterruptHub interrupts;
  VariantRendezvous meet("T1", 3, [&] { interrupts.Interrupt(); });
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn,
                            const protocol::ModelRequest& request) {
    meet.OnRequest(task, turn, request);
  };
  PlanRunResult result = Run(1, executor, nullptr, nullptr, 2, &interrupts);
  ASSERT_TRUE(meet.met());
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.exit_code, protocol::kExitInterrupted);
  EXPECT_EQ(StateOf("T1"), memory::TaskState::kPending);
  EXPECT_FALSE(repo_.Exists("out/T1.txt"));
  auto variants = Variants(result.run_id + ".T1.1");
  ASSERT_EQ(variants.size(), 3u);
  for (const auto& v : variants) {
    EXPECT_NE(v.state, ledger::VariantState::kRunning) << v.n;
    EXPECT_NE(v.state, ledger::VariantState::kPassed) << v.n << " ran on after Ctrl-C";
  }
  EXPECT_FALSE(WorktreesLeft());
}

// Cancelling a fan-out task (a kCancel op) stops its variants and drops
// their work: the task is skipped, the run goes on with the others.
TEST_F(PlanRunnerFanoutTest, CancellingAFanOutTaskStopsItsVariantsAndTheRunGoesOn) {
  WritePlan(FanTask("T1", 3) + Task("T2", "—"));
  LiveOps ops;
  VariantRendezvous meet("T1", 3, [&] {
    OpResult r = ops.Submit({protocol::OpKind::kCancel, 0, "T1", "", "test"});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  });
  ScriptedModel executor(Works);
  executor.on_request = [&](const std::string& task, int turn,
                            const protocol::ModelRequest& request) {
    meet.OnRequest(task, turn, request);
  };
  PlanRunResult result = Run(1, executor, nullptr, nullptr, 2, nullptr, &ops);
  ASSERT_TRUE(meet.met());
  EXPECT_EQ(StateOf("T1"), memory::TaskState::kSkipped);
  EXPECT_EQ(StateOf("T2"), memory::TaskState::kDone);
  EXPECT_EQ(result.skipped, 1);
  EXPECT_FALSE(repo_.Exists("out/T1.txt"));
  EXPECT_EQ(repo_.Read("out/T2.txt"), "T2\n");
  for (const auto& v : Variants(result.run_id + ".T1.1")) {
    EXPECT_NE(v.state, ledger::VariantState::kRunning) << v.n;
  }
  EXPECT_FALSE(WorktreesLeft());
}

// A task id long enough to push `<run>.<task>.<attempt>-slot-K` past the
// 64 characters a worktree id may have: the fan-out's slots still get valid
// ids (FanoutSlotId), so its variants run and the task is done.
TEST_F(PlanRunnerFanoutTest, ALongTaskIdStillFansOutInValidSlotWorktrees) {
  const std::string id = "T1-migrate-the-date-parser-to-iso-weeks-in-every-command";
  WritePlan(FanTask(id, 2));
  ScriptedModel executor(Works);
  PlanRunResult result = Run(1, executor);
  EXPECT_EQ(result.exit_code, protocol::kExitSuccess) << result.stop_reason;
  EXPECT_EQ(result.done, 1);
  EXPECT_EQ(repo_.Read("out/" + id + ".txt"), id + "\n");
  auto variants = Variants(result.run_id + "." + id + ".1");
  ASSERT_EQ(variants.size(), 2u);
  for (const auto& v : variants) {
    EXPECT_EQ(v.state, ledger::VariantState::kPassed) << v.n << ": " << v.detail;
  }
  EXPECT_FALSE(WorktreesLeft());
}

}  // namespace
}  // namespace tandem::orchestrator
