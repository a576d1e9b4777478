// TaskQueue: which plan tasks may start now, for a runner that keeps up to
// `parallel_tasks` of them running at once (the shape of ninja's Plan /
// Builder: the runner loops `while (auto id = queue.FindWork()) start(*id);`,
// and calls TaskFinished() as each one ends). Pure bookkeeping: it runs
// nothing, reads no files and knows no clock. `tandem run` drives it
// (plan_runner.h), in the checkout and in worktrees alike.
//
// Readiness: a task is ready when every task it depends on is done. A task
// that fails for good blocks its dependents (transitively); they never run.
//
// Capacity: FindWork() hands out nothing while `parallel_tasks` tasks hold a
// slot. A task's slot is freed by TaskFinished(), or earlier by FreeSlot()
// (its agent is done but its result is still being merged: it keeps
// counting as running for the scope-overlap rule).
//
// Scope overlap rule: two tasks whose scopes overlap never run at the same
// time, unless the plan says they may (either task lists the other in
// `may_overlap_with`; a merge conflict that then arises re-queues one of
// them). Scopes overlap when some path could be inside both:
//   - an empty scope means the whole repository: it overlaps every task;
//   - a scope entry names a file or a directory (everything under it), or is
//     a glob (tools/glob.h syntax);
//   - two entries are compared segment by segment: two different literal
//     segments, or a literal segment the other side's wildcard segment does
//     not match, prove them disjoint; when one entry ends first, it is a
//     directory holding the other, so they overlap;
//   - where that cannot decide cheaply (a `**` segment, two wildcard
//     segments, an entry without '/', which matches at any depth) they are
//     taken to overlap: the rule errs towards running fewer tasks at once,
//     never towards two agents editing the same file.
// Among ready tasks FindWork() picks the first in plan order that overlaps
// no running task, so a blocked task does not stall independent later ones.
//
// Failure and escalation: TaskFinished(kConflict) (a merge conflict, or gates
// that fail only on the merged tree) re-queues the task to run again on the
// new integrated tree, up to `max_conflict_requeues` times; after that it
// counts as a failure. TaskFinished(kFailed) asks the `on_failure` hook,
// which decides kRetry (re-queued: e.g. escalated to the slow tier) or
// kGiveUp (failed for good). Without a hook, a failure is final.
// TaskFinished(kStopped) (denied, cancelled, waiting for a person,
// interrupted) ends the task without a verdict: it is not escalated and does
// not run again unless Update() says it is to do again.
//
// The persistent record: a runner whose plan lives in a file people edit
// (plan.md) calls Update() with the whole plan before each round of
// FindWork(); tasks not running then take their definition and state from
// it, so an edit (or a re-plan) reaches tasks not yet started.
//
// Thread-safety: not thread-safe; owned by the runner's one scheduling loop
// (as ninja's Plan is by its Builder). Hooks run inside TaskFinished() and
// must not call back into the queue.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::orchestrator {

enum class QueuedTaskState {
  kWaiting,  // a dependency is not done yet
  kReady,    // may start when capacity and scopes allow
  kRunning,
  kDone,
  kFailed,   // given up
  kBlocked,  // a dependency failed: never runs
};

struct QueuedTask {
  std::string id;
  std::vector<std::string> depends_on;        // ids of tasks that must be done first
  std::vector<std::string> scope;             // path globs; empty = the whole repository
  std::vector<std::string> may_overlap_with;  // ids allowed to run beside it despite overlap
  // What the persistent record says of it: kDone; kFailed (closed without
  // being done: failed, skipped, waiting for a person); anything else means
  // still to do. Add() and Update() start it from there.
  QueuedTaskState recorded = QueuedTaskState::kWaiting;
};

enum class TaskOutcome {
  kSucceeded,  // gates passed on the merged tree
  kConflict,   // merge conflict, or gates failed only after merging: run again
  kFailed,     // the task itself failed (after its own retries): on_failure decides
  kStopped,    // no verdict (denied, cancelled, waiting, interrupted): closed, not escalated
};

enum class FailureDecision { kRetry, kGiveUp };

struct TaskQueueOptions {
  int parallel_tasks = 1;         // at least 1
  int max_conflict_requeues = 3;  // then a conflict counts as a failure
  // Called for each failure with the task's id and how many times it has
  // run; nullptr means kGiveUp.
  std::function<FailureDecision(const std::string& id, int runs)> on_failure;
};

class TaskQueue {
 public:
  explicit TaskQueue(TaskQueueOptions options);

  // Adds tasks (in plan order; dependencies may point to tasks of the same
  // batch or added before). Allowed mid-run: a person's edit to plan.md adds
  // tasks not yet started. InvalidArgument naming the problem (empty or
  // duplicate id, unknown dependency, a dependency cycle); nothing is added
  // then.
  Status Add(const std::vector<QueuedTask>& tasks);

  // Applies the persistent record: `tasks` is the whole plan, in plan
  // order. A task that is not running takes its definition and its
  // `recorded` state from it (keeping its run and conflict counts); a new
  // task is added; a task no longer listed is dropped unless it runs. A
  // running task keeps its definition until TaskFinished(). Waiting, ready
  // and blocked are recomputed from the dependencies. InvalidArgument as
  // Add(), checked over the whole of `tasks` (dependencies must be among
  // them); nothing changes then.
  Status Update(const std::vector<QueuedTask>& tasks);

  // The next task to start, now marked running; nullopt when capacity is
  // full or no ready task fits beside the running ones.
  std::optional<std::string> FindWork();

  // Records how running task `id` ended (and frees its slot). FailedPrecondition
  // if it is not running.
  Status TaskFinished(std::string_view id, TaskOutcome outcome);

  // Running task `id` gives its slot back before it finishes (its agent is
  // done; its merge is not): another task may start, but `id` still counts
  // as running for the scope-overlap rule until TaskFinished().
  // FailedPrecondition if it is not running with a slot.
  Status FreeSlot(std::string_view id);

  // True while some task is ready or running (the run is not over).
  bool more_to_do() const;
  bool CanRunMore() const { return running_ < options_.parallel_tasks; }

  std::optional<QueuedTaskState> state(std::string_view id) const;
  int runs(std::string_view id) const;       // how many times the task started
  std::vector<std::string> Running() const;  // in plan order

  // Whether scopes `a` and `b` may share a path (the rule above).
  static bool ScopesOverlap(const std::vector<std::string>& a, const std::vector<std::string>& b);
  // Whether `a` and `b` may run at the same time by the overlap rule (their
  // scopes are disjoint, or either lists the other in may_overlap_with).
  static bool MayRunTogether(const QueuedTask& a, const QueuedTask& b);

 private:
  struct Entry {
    QueuedTask task;
    QueuedTaskState state = QueuedTaskState::kWaiting;
    int runs = 0;
    int conflicts = 0;
    bool holds_slot = false;  // running and counted against parallel_tasks
  };

  Entry* Find(std::string_view id);
  const Entry* Find(std::string_view id) const;
  bool DependenciesDone(const Entry& e) const;
  void BlockDependentsOfFailed();
  void Promote();  // waiting tasks whose dependencies are done become ready
  // InvalidArgument for an empty or duplicate id in `tasks`, an unknown
  // dependency (`known` says which ids outside `tasks` exist) or a cycle
  // through `tasks`.
  static Status Validate(const std::vector<QueuedTask>& tasks,
                         const std::function<bool(std::string_view)>& known);
  static QueuedTaskState Initial(const QueuedTask& t);

  TaskQueueOptions options_;
  std::vector<Entry> entries_;  // plan order
  std::map<std::string, size_t, std::less<>> index_;
  int running_ = 0;  // entries holding a slot
};

// limits.parallel_tasks = 0, the default ("auto"): min(hardware_threads, 4)
// tasks at once, but 1 when no two of `tasks` could ever run together (one
// depends on the other, directly or through others, or the overlap rule
// keeps them apart): such a plan then runs in the checkout, with no
// worktree and no merge. 4: past it, on the machines measured, the gates'
// share of the cores (not the model) bounds the speed-up (PERFORMANCE.md
// section 10). Never less than 1.
int AutoParallelTasks(const std::vector<QueuedTask>& tasks, unsigned hardware_threads);

}  // namespace tandem::orchestrator
