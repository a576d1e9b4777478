// `tandem resume` and the leftovers of a killed process (part of PlanRunner,
// plan_runner_internal.h).
//
// A kill -9 may stop a run anywhere: mid-step, mid-merge, between a ledger
// row and a checkbox. Resume() continues the same run: steps left running
// go back to their checkpoints (only those on the checkout's chain: an
// agent's worktree is simply gone, and its task runs again), the task the
// checkout was carrying out has its finished steps undone (unless a person
// edited those files since: then nothing changes and resume refuses), the
// run is adopted by this process, and tasks left [~] or [?] become pending
// again (done when the ledger says so). Both Start() and Resume() first
// remove a killed writer's temp files and leftover worktrees.
//
// Thread-safety: scheduler thread only, before the loop starts.
// Errors: NotFound (nothing to resume), FailedPrecondition (the run's
// process is alive; files edited since the stop), git and ledger errors;
// nothing runs then.
#include <fmt/format.h>

#include <algorithm>

#include "tandem/ledger/done_tasks.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/memory/memory_file.h"
#include "tandem/orchestrator/plan_runner_internal.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/workspace/tracked_paths.h"

namespace tandem::orchestrator {

using memory::TaskState;
using protocol::NoticeLevel;

Result<PlanRunResult> PlanRunner::Resume(const std::string& wanted) {
  std::optional<ledger::RunRow> run;
  if (!wanted.empty()) {
    run = TRY(env_.ledger->GetRun(wanted));
    if (!run) return NotFound("no run " + wanted + " in the ledger");
  } else {
    run = TRY(env_.ledger->LastRun("run"));
    if (!run) return NotFound("no `tandem run` to resume in this repository");
  }
  if (run->outcome == ledger::RunOutcome::kSucceeded) {
    return NotFound(
        fmt::format("run {} finished; nothing to resume (`tandem run` starts a new one)", run->id));
  }
  if (run->outcome == ledger::RunOutcome::kRunning && run->owner.IsAlive() &&
      !(run->owner == ledger::ProcessIdentity::Current())) {
    return FailedPrecondition(
        fmt::format("run {} is still going on in process {}", run->id, run->owner.pid));
  }
  memory::Plan plan = TRY(LoadCheckedPlan());
  run_id_ = run->id;
  RemoveStaleTempFiles();
  RemoveLeftoverWorktrees();
  RemoveStaleAgentRefLocks();
  ws_ = TRY(workspace::Workspace::Open(root_));
  workspace::CheckpointId found = TRY(ws_->StartRun(run_id_));
  InterruptedTask interrupted = TRY(FindInterruptedTask());
  // Before any rollback: a person's edit since the stop is not overwritten.
  RETURN_IF_ERROR(RefuseEditedFiles(interrupted, found));
  // Steps the dead process left half done go back to their checkpoints.
  for (const ledger::StepRow& step : TRY(env_.ledger->FindInterruptedSteps(run_id_))) {
    if (step.checkpoint_before.empty()) continue;
    auto id = TRY(workspace::CheckpointId::Parse(step.checkpoint_before));
    // An agent's step in its worktree: the worktree is gone, the task reruns.
    if (!TRY(agent::IsOnRunChain(*ws_, run_id_, id))) continue;
    TRY(ws_->Restore(id, workspace::TouchedPaths::Unknown()));
    Notice(NoticeLevel::kWarn,
           fmt::format("rolled back interrupted step {} (task {}) to checkpoint {}", step.n,
                       step.task_id.empty() ? "-" : step.task_id, id.Short()));
  }
  RETURN_IF_ERROR(RestartInterruptedTask(interrupted));
  RETURN_IF_ERROR(env_.ledger->AdoptRun(run_id_));
  // Escalations already spent count against the budget.
  for (const auto& [task_id, n] : TRY(env_.ledger->EscalationCounts(run_id_))) {
    escalations_[task_id] = n;
  }
  for (const ledger::TaskRow& t : TRY(env_.ledger->ListTasks(run_id_)))
    attempts_[t.task_id] = static_cast<int>(t.attempts);
  plan = TRY(memory::LoadPlan(plan_path_));  // as restored
  RETURN_IF_ERROR(ResetUnfinished(plan, /*resumed=*/true));
  SizeParallelism(plan);
  Publish("", protocol::RunStarted{"resume", run->goal, env_.repo_root, env_.executor.name,
                                   env_.gates_source, 0});
  return Loop();
}

// A process killed while an agent wrote one of its checkpoint refs
// (refs/tandem/runs/<run>.<task>.<attempt>/, in the shared git directory)
// leaves `<n>.lock` there. The task runs again under a new attempt, so no
// StartRun ever cleans that folder; this process now owns the run (one
// writer per repository), so every lock under the run's agents' folders is
// stale.
void PlanRunner::RemoveStaleAgentRefLocks() {
  auto git_dir = ledger::GitCommonDir(root_);
  if (!git_dir) return;
  const std::string prefix = run_id_ + ".";
  std::error_code ec;
  for (const auto& run : std::filesystem::directory_iterator(*git_dir / "refs/tandem/runs", ec)) {
    if (run.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::error_code inner;
    for (const auto& entry : std::filesystem::directory_iterator(run.path(), inner)) {
      if (entry.path().extension() != ".lock") continue;
      std::error_code removed;
      std::filesystem::remove(entry.path(), removed);
      Notice(removed ? NoticeLevel::kWarn : NoticeLevel::kInfo,
             removed ? "removing " + entry.path().string() + ": " + removed.message()
                     : "removed stale lock " + entry.path().string() + " left by a killed run");
    }
  }
}

// A killed writer's temp files at the root (plan.md's, progress.md's), but
// never a file the repository tracks under such a name: when the index
// cannot be read, nothing is removed.
void PlanRunner::RemoveStaleTempFiles() {
  auto tracked = workspace::TrackedPaths(root_, ".");
  if (!tracked) return;
  platform::RemoveStaleTempFiles(root_, [&](const std::string& name) {
    return std::binary_search(tracked->begin(), tracked->end(), name);
  });
}

// The task the stopped process was carrying out (the task of the run's
// last step), unless the ledger has it as done, failed or skipped. It runs
// again from the checkpoint it started from, so its finished steps are
// undone first: a step that appended to a file would otherwise append
// twice. Its start (`base`) is the `checkpoint_before` of the first of its
// trailing steps (its steps since another task's last one); `paths` are
// the files its finished steps changed (not plan.md or progress.md:
// ResetUnfinished fixes the checkbox, and progress.md is the log of what
// happened), so a person's edits elsewhere stay; `last` is the checkpoint
// after its last finished step. Empty `paths`: nothing to undo.
Result<PlanRunner::InterruptedTask> PlanRunner::FindInterruptedTask() {
  InterruptedTask out;
  // Only the steps in the checkout: a parallel run's agents worked in
  // worktrees (removed by now); in the checkout they only merged.
  std::set<std::string> chain;
  for (const workspace::CheckpointId& c : TRY(ws_->RunCheckpoints(run_id_))) chain.insert(c.hex);
  std::vector<ledger::StepRow> steps;
  for (ledger::StepRow& step : TRY(env_.ledger->ListSteps(run_id_))) {
    if (chain.count(step.checkpoint_before)) steps.push_back(std::move(step));
  }
  if (steps.empty() || steps.back().task_id.empty()) return out;
  const std::string task_id = steps.back().task_id;
  for (const ledger::TaskRow& t : TRY(env_.ledger->ListTasks(run_id_))) {
    if (t.task_id == task_id &&
        (t.state == ledger::TaskState::kDone || t.state == ledger::TaskState::kFailed ||
         t.state == ledger::TaskState::kSkipped)) {
      return out;
    }
  }
  auto first = steps.end();
  while (first != steps.begin() && std::prev(first)->task_id == task_id) --first;
  if (first->checkpoint_before.empty()) return out;
  out.task_id = task_id;
  out.base = TRY(workspace::CheckpointId::Parse(first->checkpoint_before));
  for (auto step = first; step != steps.end(); ++step) {
    if (step->state != ledger::StepState::kDone || step->checkpoint_after.empty() ||
        step->checkpoint_after == step->checkpoint_before) {
      continue;
    }
    ++out.finished;
    auto from = TRY(workspace::CheckpointId::Parse(step->checkpoint_before));
    auto to = TRY(workspace::CheckpointId::Parse(step->checkpoint_after));
    out.last = to;
    for (const workspace::FileChange& c : TRY(ws_->Diff(from, to))) {
      if (c.path != memory::kPlanFileName && c.path != memory::kProgressFileName) {
        out.paths.insert(c.path);
      }
    }
  }
  return out;
}

// FailedPrecondition naming the files of `task` that differ in `found`
// (the tree as the resume found it) both from how the task's finished
// steps left them and from the task's start: someone edited them after
// the stop, and undoing the steps would overwrite that edit (as
// Workspace::Undo refuses to). A file already back at the start (a
// killed resume's restore) is fine.
Status PlanRunner::RefuseEditedFiles(const InterruptedTask& task,
                                     const workspace::CheckpointId& found) {
  if (task.paths.empty()) return Status::Ok();
  auto changed = [&](const workspace::CheckpointId& from) -> Result<std::set<std::string>> {
    std::set<std::string> out;
    for (const workspace::FileChange& c : TRY(ws_->Diff(from, found))) {
      if (task.paths.count(c.path)) out.insert(c.path);
    }
    return out;
  };
  std::set<std::string> since_steps = TRY(changed(*task.last));
  std::set<std::string> since_start = TRY(changed(*task.base));
  std::string edited;
  for (const std::string& path : since_steps) {
    if (since_start.count(path)) edited += (edited.empty() ? "" : ", ") + path;
  }
  if (edited.empty()) return Status::Ok();
  return FailedPrecondition(fmt::format(
      "task {} was interrupted, and its files changed since the run stopped: {}; resuming "
      "would undo the task's steps over that edit, so nothing was changed (commit or move "
      "the edit elsewhere, or restore the files, then resume again)",
      task.task_id, edited));
}

Status PlanRunner::RestartInterruptedTask(const InterruptedTask& task) {
  if (task.paths.empty()) return Status::Ok();
  TRY(ws_->Restore(*task.base,
                   workspace::TouchedPaths::Only({task.paths.begin(), task.paths.end()})));
  Notice(NoticeLevel::kWarn,
         fmt::format("task {} was interrupted: undid its {} finished step(s) ({} file(s)) back "
                     "to the checkpoint it started from, {}",
                     task.task_id, task.finished, task.paths.size(), task.base->Short()),
         task.task_id);
  return Status::Ok();
}

// Tasks an earlier process left running or waiting become pending again
// (unless the ledger says they are done: the process died between the
// ledger row and the checkbox).
Status PlanRunner::ResetUnfinished(const memory::Plan& plan, bool resumed) {
  RETURN_IF_ERROR(RunUnverifiedDoneTasks(plan));
  std::map<std::string, ledger::TaskState> ledger_states;
  std::map<std::string, std::string> ledger_tiers;
  if (resumed) {
    for (const auto& t : TRY(env_.ledger->ListTasks(run_id_))) {
      ledger_states[t.task_id] = t.state;
      ledger_tiers[t.task_id] = t.tier;
    }
  }
  for (const PlanTask& task : plan.tasks) {
    // A re-plan merged into plan.md (the task skipped, its parts added)
    // before the ledger heard of it: plan.md decides.
    auto it = ledger_states.find(task.id);
    if (it != ledger_states.end() && it->second == ledger::TaskState::kRunning &&
        task.state == TaskState::kSkipped) {
      Upsert(task, task.state, ledger_tiers[task.id], "re-planned before the process stopped");
    }
  }
  for (const PlanTask& task : plan.tasks) {
    if (task.state != TaskState::kRunning && task.state != TaskState::kWaiting) continue;
    auto it = ledger_states.find(task.id);
    TaskState to = it != ledger_states.end() && it->second == ledger::TaskState::kDone
                       ? TaskState::kDone
                       : TaskState::kPending;
    RETURN_IF_ERROR(Mark(task.id, to));
    if (to == TaskState::kPending && resumed) {
      Notice(NoticeLevel::kInfo,
             fmt::format("task {} was interrupted; it runs again from its starting checkpoint",
                         task.id),
             task.id);
    }
  }
  return Status::Ok();
}

// plan.md's `[x]` is a claim; tandem's record of having seen a task's
// gates pass is the ledger's done row (same id and title, any run of this
// repository). A task marked done without one (a committed or downloaded
// plan.md, a person's edit) was not verified: it goes back to pending and
// runs, so the run reports done only what tandem saw pass. `[-]` is how a
// person skips a task.
Status PlanRunner::RunUnverifiedDoneTasks(const memory::Plan& plan) {
  std::set<std::pair<std::string, std::string>> verified;
  for (const ledger::DoneTask& t : TRY(ledger::ListDoneTasks(*env_.ledger))) {
    verified.emplace(t.task_id, t.title);
  }
  for (const PlanTask& task : plan.tasks) {
    if (task.state != TaskState::kDone || verified.count({task.id, task.title})) continue;
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Notice(NoticeLevel::kWarn,
           fmt::format("task {} is marked done in plan.md, but tandem has no record of "
                       "verifying it; it runs now (mark it [-] to skip it)",
                       task.id),
           task.id);
  }
  return Status::Ok();
}

}  // namespace tandem::orchestrator
