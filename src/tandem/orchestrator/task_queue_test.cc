#include "tandem/orchestrator/task_queue.h"

#include <gtest/gtest.h>

#include <functional>

namespace tandem::orchestrator {
namespace {

TaskQueueOptions Options(int parallel, int max_conflict_requeues = 3,
                         std::function<FailureDecision(const std::string&, int)> on_failure = {}) {
  TaskQueueOptions o;
  o.parallel_tasks = parallel;
  o.max_conflict_requeues = max_conflict_requeues;
  o.on_failure = std::move(on_failure);
  return o;
}

// Independent tasks, each in its own directory.
QueuedTask Own(std::string id, std::vector<std::string> deps = {}) {
  std::vector<std::string> scope = {"src/" + id + "/**"};
  return QueuedTask{std::move(id), std::move(deps), std::move(scope), {}};
}

std::vector<std::string> Drain(TaskQueue& q) {
  std::vector<std::string> started;
  while (auto id = q.FindWork()) started.push_back(*id);
  return started;
}

using Ids = std::vector<std::string>;

TEST(TaskQueue, StartsOnlyTasksWhoseDependenciesAreDone) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"}), Own("c", {"a", "b"}), Own("d")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "d"}));
  EXPECT_EQ(q.state("b"), QueuedTaskState::kWaiting);
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"b"}));
  ASSERT_TRUE(q.TaskFinished("b", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"c"}));
  ASSERT_TRUE(q.TaskFinished("c", TaskOutcome::kSucceeded).ok());
  ASSERT_TRUE(q.TaskFinished("d", TaskOutcome::kSucceeded).ok());
  EXPECT_FALSE(q.more_to_do());
}

TEST(TaskQueue, NeverRunsMoreThanParallelTasksAtOnce) {
  TaskQueue q(Options(2));
  ASSERT_TRUE(q.Add({Own("a"), Own("b"), Own("c"), Own("d")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "b"}));
  EXPECT_FALSE(q.CanRunMore());
  ASSERT_TRUE(q.TaskFinished("b", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"c"}));
  EXPECT_EQ(q.Running(), (Ids{"a", "c"}));
}

TEST(TaskQueue, OverlappingScopesWaitButIndependentLaterTasksGoAhead) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({QueuedTask{"a", {}, {"src/date.cc"}, {}},
                     QueuedTask{"b", {}, {"src/*.cc"}, {}},  // may touch src/date.cc
                     QueuedTask{"c", {}, {"docs/**"}, {}}})
                  .ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "c"}));
  EXPECT_EQ(q.state("b"), QueuedTaskState::kReady);
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"b"}));
}

TEST(TaskQueue, PlanMayLetOverlappingTasksRunTogether) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(
      q.Add({QueuedTask{"a", {}, {"src/**"}, {}}, QueuedTask{"b", {}, {"src/util.cc"}, {"a"}}})
          .ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "b"}));
}

TEST(TaskQueue, AnUnscopedTaskRunsAlone) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), QueuedTask{"whole", {}, {}, {}}, Own("b")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "b"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), Ids{});
  ASSERT_TRUE(q.TaskFinished("b", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"whole"}));
}

TEST(TaskQueue, ScopeOverlapRule) {
  auto overlap = [](std::vector<std::string> a, std::vector<std::string> b) {
    return TaskQueue::ScopesOverlap(a, b);
  };
  EXPECT_TRUE(overlap({"src/a.cc"}, {"src/a.cc"}));
  EXPECT_FALSE(overlap({"src/a.cc"}, {"src/b.cc"}));
  EXPECT_TRUE(overlap({"src"}, {"src/a.cc"}));  // a directory holds the file
  EXPECT_TRUE(overlap({"src/net/"}, {"src/net/http.cc"}));
  EXPECT_FALSE(overlap({"src/net/**"}, {"src/ui/**"}));
  EXPECT_TRUE(overlap({"src/*.cc"}, {"src/a.cc"}));
  EXPECT_FALSE(overlap({"src/*.cc"}, {"src/a.h"}));
  EXPECT_FALSE(overlap({"src/*/x.cc"}, {"docs/a/x.cc"}));
  EXPECT_TRUE(overlap({"src/**/x.cc"}, {"src/a/y.cc"}));  // `**`: assumed to overlap
  EXPECT_TRUE(overlap({"*.md"}, {"docs/a.txt"}));         // no '/': any depth
  EXPECT_TRUE(overlap({}, {"docs/a.txt"}));               // empty: the whole repository
  EXPECT_TRUE(overlap({"a/x", "b/y"}, {"c/z", "b/y"}));   // any pair
  EXPECT_TRUE(overlap({"./src/a.cc"}, {"src/a.cc"}));
}

TEST(TaskQueue, MergeConflictRequeuesTheTaskToRunAgain) {
  TaskQueue q(Options(2, 1));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"})}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kConflict).ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kReady);
  EXPECT_EQ(q.state("b"), QueuedTaskState::kWaiting);  // a is not done
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  EXPECT_EQ(q.runs("a"), 2);
  // A second conflict is one more than allowed: a failure, and no hook means
  // giving up.
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kConflict).ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kFailed);
  EXPECT_EQ(q.state("b"), QueuedTaskState::kBlocked);
  EXPECT_FALSE(q.more_to_do());
}

TEST(TaskQueue, FailureHookDecidesRetryOrGiveUp) {
  std::vector<std::pair<std::string, int>> asked;
  TaskQueue q(Options(2, 3, [&](const std::string& id, int runs) {
    asked.emplace_back(id, runs);
    return runs < 2 ? FailureDecision::kRetry : FailureDecision::kGiveUp;
  }));
  ASSERT_TRUE(q.Add({Own("a")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kFailed).ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kReady);  // escalated: runs again
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kFailed).ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kFailed);
  EXPECT_EQ(asked, (std::vector<std::pair<std::string, int>>{{"a", 1}, {"a", 2}}));
}

TEST(TaskQueue, FailureBlocksDependentsTransitivelyButNotOthers) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"}), Own("c", {"b"}), Own("d")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "d"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kFailed).ok());
  EXPECT_EQ(q.state("b"), QueuedTaskState::kBlocked);
  EXPECT_EQ(q.state("c"), QueuedTaskState::kBlocked);
  EXPECT_TRUE(q.more_to_do());  // d still runs
  ASSERT_TRUE(q.TaskFinished("d", TaskOutcome::kSucceeded).ok());
  EXPECT_FALSE(q.more_to_do());
}

TEST(TaskQueue, TasksAddedMidRunJoinTheQueue) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.Add({Own("b", {"a"}), Own("c")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"c"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"b"}));
}

TEST(TaskQueue, BadBatchesAreRefusedWholeWithTheProblemNamed) {
  TaskQueue q(Options(2));
  ASSERT_TRUE(q.Add({Own("a")}).ok());
  Status dup = q.Add({Own("x"), Own("a")});
  EXPECT_EQ(dup.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dup.message().find("duplicate task id a"), std::string::npos);
  Status unknown = q.Add({Own("y", {"nope"})});
  EXPECT_NE(unknown.message().find("unknown task nope"), std::string::npos);
  Status cycle = q.Add({Own("p", {"q"}), Own("q", {"r"}), Own("r", {"p"})});
  EXPECT_EQ(cycle.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cycle.message().find("p -> q -> r -> p"), std::string::npos) << cycle.message();
  EXPECT_FALSE(q.state("x").has_value());  // nothing of a refused batch was added
  EXPECT_FALSE(q.state("p").has_value());
}

QueuedTask Recorded(QueuedTask t, QueuedTaskState state) {
  t.recorded = state;
  return t;
}

TEST(TaskQueue, UpdateAppliesTheRecordToEveryTaskNotRunning) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"}), Own("c")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "c"}));
  ASSERT_TRUE(q.TaskFinished("c", TaskOutcome::kSucceeded).ok());
  // A person's edit: b no longer waits for a; c is marked pending again; d
  // is new; a (running) is listed with another scope.
  ASSERT_TRUE(q.Update({QueuedTask{"a", {}, {}, {}}, Own("b"), Own("c"), Own("d", {"c"})}).ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kRunning);
  EXPECT_EQ(q.state("d"), QueuedTaskState::kWaiting);  // c is to do again
  // a keeps its old scope while it runs (an empty one would overlap all).
  EXPECT_EQ(Drain(q), (Ids{"b", "c"}));
  EXPECT_EQ(q.runs("c"), 2);
}

TEST(TaskQueue, UpdateTakesDoneAndClosedTasksFromTheRecord) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Update({Recorded(Own("a"), QueuedTaskState::kDone), Own("b", {"a"}),
                        Recorded(Own("c"), QueuedTaskState::kFailed), Own("d", {"c"})})
                  .ok());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kDone);
  EXPECT_EQ(q.state("c"), QueuedTaskState::kFailed);
  EXPECT_EQ(q.state("d"), QueuedTaskState::kBlocked);
  EXPECT_EQ(Drain(q), (Ids{"b"}));
}

// The planner splits a failed task: it is closed, its parts follow it, and
// its dependent now waits for the parts: no longer blocked.
TEST(TaskQueue, UpdateUnblocksTheDependentsOfASplitTask) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"})}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kFailed).ok());
  EXPECT_EQ(q.state("b"), QueuedTaskState::kBlocked);
  ASSERT_TRUE(q.Update({Recorded(Own("a"), QueuedTaskState::kFailed), Own("a1"), Own("a2"),
                        Own("b", {"a1", "a2"})})
                  .ok());
  EXPECT_EQ(q.state("b"), QueuedTaskState::kWaiting);
  EXPECT_EQ(Drain(q), (Ids{"a1", "a2"}));
  ASSERT_TRUE(q.TaskFinished("a1", TaskOutcome::kSucceeded).ok());
  ASSERT_TRUE(q.TaskFinished("a2", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"b"}));
}

TEST(TaskQueue, UpdateDropsTasksNoLongerListedUnlessRunning) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"}), Own("c")}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a", "c"}));
  ASSERT_TRUE(q.Update({Own("c")}).ok());
  EXPECT_FALSE(q.state("b").has_value());
  EXPECT_EQ(q.state("a"), QueuedTaskState::kRunning);  // kept until it finishes
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(q.Running(), (Ids{"c"}));
}

TEST(TaskQueue, UpdateIsRefusedWholeWhenTheRecordIsBad) {
  TaskQueue q(Options(4));
  ASSERT_TRUE(q.Add({Own("a")}).ok());
  Status unknown = q.Update({Own("a"), Own("b", {"gone"})});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("unknown task gone"), std::string::npos);
  Status cycle = q.Update({Own("a", {"b"}), Own("b", {"a"})});
  EXPECT_NE(cycle.message().find("a -> b -> a"), std::string::npos) << cycle.message();
  EXPECT_FALSE(q.state("b").has_value());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
}

// A task whose agent is done but whose merge is not gives its slot to the
// next task, and still keeps tasks that overlap it waiting.
TEST(TaskQueue, AFreedSlotStartsAnotherTaskButTheScopeStaysTaken) {
  TaskQueue q(Options(1));
  ASSERT_TRUE(q.Add({QueuedTask{"a", {}, {"src/x.cc"}, {}}, QueuedTask{"b", {}, {"src/x.cc"}, {}},
                     QueuedTask{"c", {}, {"docs/y.md"}, {}}})
                  .ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.FreeSlot("a").ok());
  EXPECT_EQ(q.FreeSlot("a").code(), StatusCode::kFailedPrecondition);  // no slot left to free
  EXPECT_EQ(Drain(q), (Ids{"c"}));  // b overlaps a, which is still merging
  EXPECT_EQ(q.Running(), (Ids{"a", "c"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), Ids{});  // capacity: c holds the one slot
  ASSERT_TRUE(q.TaskFinished("c", TaskOutcome::kSucceeded).ok());
  EXPECT_EQ(Drain(q), (Ids{"b"}));
}

TEST(TaskQueue, AStoppedTaskIsClosedWithoutAskingTheFailureHook) {
  int asked = 0;
  TaskQueue q(Options(2, 3, [&](const std::string&, int) {
    ++asked;
    return FailureDecision::kRetry;
  }));
  ASSERT_TRUE(q.Add({Own("a"), Own("b", {"a"})}).ok());
  EXPECT_EQ(Drain(q), (Ids{"a"}));
  ASSERT_TRUE(q.TaskFinished("a", TaskOutcome::kStopped).ok());
  EXPECT_EQ(asked, 0);
  EXPECT_EQ(q.state("a"), QueuedTaskState::kFailed);
  EXPECT_EQ(q.state("b"), QueuedTaskState::kBlocked);
  EXPECT_FALSE(q.more_to_do());
}

TEST(TaskQueue, FinishingATaskThatIsNotRunningIsAnError) {
  TaskQueue q(Options(1));
  ASSERT_TRUE(q.Add({Own("a")}).ok());
  EXPECT_EQ(q.TaskFinished("a", TaskOutcome::kSucceeded).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q.TaskFinished("zz", TaskOutcome::kSucceeded).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tandem::orchestrator

namespace tandem::orchestrator {
namespace {

QueuedTask Task(std::string id, std::vector<std::string> after, std::vector<std::string> scope) {
  return {std::move(id), std::move(after), std::move(scope), {}};
}

TEST(AutoParallelTasksTest, IndependentDisjointTasksGetTheMachinesCoresUpToFour) {
  std::vector<QueuedTask> tasks = {Task("T1", {}, {"src/a/"}), Task("T2", {}, {"src/b/"})};
  EXPECT_EQ(AutoParallelTasks(tasks, 2), 2);
  EXPECT_EQ(AutoParallelTasks(tasks, 16), 4);
  EXPECT_EQ(AutoParallelTasks(tasks, 0), 1);  // unknown core count
}

TEST(AutoParallelTasksTest, AChainRunsOneByOneInTheCheckout) {
  // T3 depends on T1 through T2: no two can ever run together.
  std::vector<QueuedTask> tasks = {Task("T1", {}, {"src/a/"}), Task("T2", {"T1"}, {"src/b/"}),
                                   Task("T3", {"T2"}, {"src/c/"})};
  EXPECT_EQ(AutoParallelTasks(tasks, 8), 1);
}

TEST(AutoParallelTasksTest, TasksWithoutAScopeOverlapEverythingUnlessThePlanAllowsIt) {
  std::vector<QueuedTask> tasks = {Task("T1", {}, {}), Task("T2", {}, {})};
  EXPECT_EQ(AutoParallelTasks(tasks, 8), 1);
  tasks[1].may_overlap_with = {"T1"};
  EXPECT_EQ(AutoParallelTasks(tasks, 8), 4);
}

TEST(AutoParallelTasksTest, OneIndependentPairIsEnough) {
  std::vector<QueuedTask> tasks = {Task("T1", {}, {}), Task("T2", {"T1"}, {"docs/guide/"}),
                                   Task("T3", {"T1"}, {"src/lib/"})};
  EXPECT_EQ(AutoParallelTasks(tasks, 2), 2);  // T2 and T3 both wait only for T1
  EXPECT_EQ(AutoParallelTasks({Task("T1", {}, {"a/"})}, 8), 1);
  EXPECT_EQ(AutoParallelTasks({}, 8), 1);
}

}  // namespace
}  // namespace tandem::orchestrator
