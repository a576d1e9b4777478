// Integration (part of PlanRunner, plan_runner_internal.h): with tasks in
// parallel, each agent works in a pooled worktree (<run>-slot-K under the
// git directory, created once, then reset to the integrated checkpoint for
// its next task; RunAgent), and a task whose gates passed there is merged
// into the checkout on the scheduler: libgit2's three-way tree merge (base:
// the checkpoint the worktree started from; ours: the checkout's last;
// theirs: the agent's last; plan.md and progress.md always ours), the merged
// files restored as a ledger step of the task, and the task's gates run
// again on the merged tree. It is done only then. A conflict, or gates that
// fail only on the merged tree, rolls the checkout back and hands the task
// back to the queue (TaskFinished(kConflict): it runs again with the reason
// as feedback; past the queue's limit it is escalated as a failure).
// Results that arrive together merge as one batch when their gates are the
// same (gated once; when that fails, one by one).
//
// Thread-safety: scheduler thread only, except RunAgent (on its agent's
// thread: it touches only its worktree and the Agent it is handed).
// Errors: git, libgit2 and ledger failures are returned (the run stops);
// a conflict or a failing gate is not an error.
#include <fmt/format.h>

#include "tandem/base/kill_point.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/orchestrator/plan_runner_internal.h"
#include "tandem/workspace/tree_merge.h"
#include "tandem/workspace/worktree.h"

namespace tandem::orchestrator {
namespace {

std::string ConflictText(const workspace::TreeMerge& merge) {
  return fmt::format(
      "its result conflicts with the integrated tree (changed by tasks merged since it "
      "started) in {}",
      fmt::join(merge.conflicts, ", "));
}

}  // namespace

using memory::TaskState;
using protocol::NoticeLevel;

// On the agent's thread: its worktree at the integrated checkpoint, its
// own Workspace, then the task.
Result<agent::TaskResult> PlanRunner::RunAgent(Agent& a) {
  std::filesystem::path tree;
  if (a.reuse) {
    RETURN_IF_ERROR(workspace::Worktree::Reset(root_, a.slot, a.base));
    tree = workspace::Worktree::PathFor(git_dir_, a.slot);
  } else {
    tree = TRY(workspace::Worktree::Create(root_, a.slot, a.base)).root();
  }
  auto ws = TRY(workspace::Workspace::Open(tree));
  TRY(ws->StartRun(fmt::format("{}.{}.{}", run_id_, a.task.id, a.attempt)));
  a.env.repo_root = ws->root();
  workspace::Workspace* agent_ws = ws.get();
  PlanTask task = a.task;
  a.env.irreversible_commands = [this, task, agent_ws](const std::string& command,
                                                       const std::string& why) {
    return DecideCommand(task, command, why, *agent_ws);
  };
  return agent::ExecuteTask(a.spec, a.env, *ws, nullptr);
}

// Merges tasks that finished together. Several with the same gates are
// merged as one batch whose gates run once on the merged tree (the gates
// of a parallel run would otherwise run one merge after another on this
// thread); a conflict requeues just that task; when the batch's gates
// fail, its tasks are merged one by one, so the one that breaks the tree
// is the one that runs again.
Status PlanRunner::MergeAll(std::vector<Finished> finished) {
  if (finished.size() > 1 && SameGates(finished)) {
    std::vector<Finished> rest = TRY(MergeBatch(std::move(finished)));
    finished = std::move(rest);
  }
  for (Finished& f : finished) {
    task_base_ = f.agent->base.hex;
    std::string conflict = TRY(Merge(*f.agent, f.outcome));
    if (conflict.empty()) {
      RETURN_IF_ERROR(Done(f.agent->task, f.agent->tier, f.outcome));
    } else {
      RETURN_IF_ERROR(Requeue(f.agent->task, f.agent->tier, conflict, std::move(f.outcome)));
    }
  }
  return Status::Ok();
}

bool PlanRunner::SameGates(const std::vector<Finished>& finished) {
  auto key = [](const agent::TaskEnv& env) {
    std::string k;
    for (const verify::Gate& g : env.gates) k += g.name + '\0' + g.command + '\0';
    return k;
  };
  for (const Finished& f : finished) {
    if (key(f.agent->env) != key(finished[0].agent->env)) return false;
  }
  return true;
}

// The batch: each task's merge is a ledger step of its own (same
// checkpoints before and after), the merged files go into the checkout
// once and the gates run once. Returns the tasks still to merge one by
// one (all of them when the batch's gates failed; none when it passed).
Result<std::vector<PlanRunner::Finished>> PlanRunner::MergeBatch(std::vector<Finished> finished) {
  CheckpointMemory();
  workspace::CheckpointId ours = *ws_->last_checkpoint();
  workspace::CheckpointId merged_commit = ours;
  std::set<std::string> changed;
  std::vector<Finished> in_batch;
  for (Finished& f : finished) {
    auto theirs = TRY(workspace::CheckpointId::Parse(f.outcome.final_checkpoint));
    workspace::TreeMerge merge = TRY(workspace::MergeCheckpoints(
        root_, f.agent->base, merged_commit, theirs,
        {std::string(memory::kPlanFileName), std::string(memory::kProgressFileName)}));
    if (!merge.merged) {
      task_base_ = f.agent->base.hex;
      RETURN_IF_ERROR(
          Requeue(f.agent->task, f.agent->tier, ConflictText(merge), std::move(f.outcome)));
      continue;
    }
    merged_commit = *merge.merged;
    changed.insert(merge.changed.begin(), merge.changed.end());
    in_batch.push_back(std::move(f));
  }
  if (in_batch.size() < 2) return in_batch;
  std::vector<ledger::StepId> steps;
  for (const Finished& f : in_batch) {
    ledger::StepStart start{run_id_, f.agent->task.id, f.agent->attempt, ours.hex};
    steps.push_back(TRY(env_.ledger->BeginStep(start)));
  }
  KillPoint("merge_step_begun");
  std::vector<std::string> paths(changed.begin(), changed.end());
  workspace::CheckpointId merged =
      TRY(ws_->Restore(merged_commit, workspace::TouchedPaths::Only(paths)));
  KillPoint("merge_applied");
  std::vector<std::string> ids;
  for (const Finished& f : in_batch) ids.push_back(f.agent->task.id);
  Notice(NoticeLevel::kInfo,
         fmt::format("merged tasks {} ({} file(s)) into the checkout; their gates run "
                     "again on the merged tree",
                     fmt::join(ids, ", "), paths.size()));
  const Agent& first = *in_batch[0].agent;
  agent::TaskEnv env = first.env;
  env.repo_root = env_.repo_root;
  env.interrupts = &agents_stop_;
  auto check = TRY(agent::CheckGates(first.spec, env, *ws_, merged, steps[0]));
  ledger::StepEnd end;
  end.files_changed = static_cast<int64_t>(paths.size());
  if (check.passed) {
    // The first task's step carries the whole change and is done first: a
    // resume then undoes the batch only while none of it is done, and a
    // later task of the batch left undone runs again on a tree that
    // already holds its work.
    end.note = "merged into the integrated tree";
    for (size_t i = 0; i < steps.size(); ++i) {
      end.checkpoint_after = i == 0 ? merged.hex : ours.hex;
      RETURN_IF_ERROR(env_.ledger->EndStep(steps[i], end));
    }
    for (Finished& f : in_batch) RETURN_IF_ERROR(Done(f.agent->task, f.agent->tier, f.outcome));
    return std::vector<Finished>();
  }
  workspace::CheckpointId back = TRY(ws_->Restore(ours, workspace::TouchedPaths::Only(paths)));
  end.state = ledger::StepState::kRolledBack;
  end.checkpoint_after = back.hex;
  end.note = "gates failed on a batch of merges; merging one by one";
  for (ledger::StepId step : steps) RETURN_IF_ERROR(env_.ledger->EndStep(step, end));
  return in_batch;
}

// Merges a task that passed in its worktree into the checkout, as a step
// of its own: checkpoint before (the integrated tree), the merged files
// restored, the task's gates on the merged tree, checkpoint after. Returns
// "" when merged and gated, else why not (the checkout is back as it was).
Result<std::string> PlanRunner::Merge(const Agent& a, const agent::TaskResult& outcome) {
  CheckpointMemory();
  workspace::CheckpointId ours = *ws_->last_checkpoint();
  auto theirs = TRY(workspace::CheckpointId::Parse(outcome.final_checkpoint));
  workspace::TreeMerge merge = TRY(workspace::MergeCheckpoints(
      root_, a.base, ours, theirs,
      {std::string(memory::kPlanFileName), std::string(memory::kProgressFileName)}));
  if (!merge.merged) return ConflictText(merge);
  ledger::StepStart start{run_id_, a.task.id, a.attempt, ours.hex};
  ledger::StepId step = TRY(env_.ledger->BeginStep(start));
  KillPoint("merge_step_begun");  // crash tests: the merge's row is 'running'
  workspace::CheckpointId merged =
      TRY(ws_->Restore(*merge.merged, workspace::TouchedPaths::Only(merge.changed)));
  KillPoint("merge_applied");  // crash tests: the merged files are in the checkout
  Notice(NoticeLevel::kInfo,
         fmt::format("merged {} file(s) of task {} into the checkout; its gates run again "
                     "on the merged tree",
                     merge.changed.size(), a.task.id),
         a.task.id);
  agent::TaskEnv env = a.env;
  env.repo_root = env_.repo_root;
  env.interrupts = &agents_stop_;
  auto check = TRY(agent::CheckGates(a.spec, env, *ws_, merged, step));
  ledger::StepEnd end;
  end.files_changed = static_cast<int64_t>(merge.changed.size());
  if (check.passed) {
    end.checkpoint_after = merged.hex;
    end.note = "merged into the integrated tree";
    RETURN_IF_ERROR(env_.ledger->EndStep(step, end));
    return std::string();
  }
  workspace::CheckpointId back =
      TRY(ws_->Restore(ours, workspace::TouchedPaths::Only(merge.changed)));
  end.state = ledger::StepState::kRolledBack;
  end.checkpoint_after = back.hex;
  end.note = "gates failed on the merged tree";
  RETURN_IF_ERROR(env_.ledger->EndStep(step, end));
  return "it passed its gates alone, but they fail on the merged tree (with the tasks merged "
         "since it started): " +
         check.feedback;
}

// A merge conflict, or gates failing only on the merged tree: the queue
// hands the task back to run again from the integrated tree with `why` as
// feedback, at most TaskQueueOptions::max_conflict_requeues times; then it
// counts as a failure, which the failure hook escalates.
Status PlanRunner::Requeue(const PlanTask& task, Tier tier, const std::string& why,
                           agent::TaskResult outcome) {
  outcome.outcome = agent::TaskOutcome::kFailed;
  outcome.summary = "could not be merged: " + why;
  if (TRY(Finish(task, tier, TaskOutcome::kConflict, std::move(outcome)))) return Status::Ok();
  Notice(NoticeLevel::kWarn,
         fmt::format("task {} runs again on the integrated tree: {}", task.id, FirstLine(why)),
         task.id);
  Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kFailure,
                              "not merged: " + FirstLine(why)));
  merge_feedback_[task.id] = why;
  RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
  Upsert(task, TaskState::kPending, TierRole(tier), "requeued: " + FirstLine(why));
  return Status::Ok();
}

// Removes this run's worktree pool.
void PlanRunner::RemovePool() {
  for (const std::string& slot : made_slots_) {
    Status removed = workspace::Worktree::Remove(root_, slot);
    if (!removed.ok() && removed.code() != StatusCode::kNotFound) {
      Notice(NoticeLevel::kWarn, "removing worktree " + slot + ": " + removed.message());
    }
  }
  made_slots_.clear();
  free_slots_.clear();
}

// Worktrees of parallel runs that a killed process left behind (one
// writer per repository, so no live run owns them).
void PlanRunner::RemoveLeftoverWorktrees() {
  auto ids = workspace::Worktree::List(root_);
  if (!ids) {
    Notice(NoticeLevel::kWarn, "listing worktrees: " + ids.error().message());
    return;
  }
  for (const std::string& id : *ids) {
    if (id.find("-slot-") == std::string::npos) continue;
    Status removed = workspace::Worktree::Remove(root_, id);
    Notice(removed.ok() ? NoticeLevel::kInfo : NoticeLevel::kWarn,
           removed.ok() ? "removed worktree " + id + " left by a stopped run"
                        : "removing worktree " + id + ": " + removed.message());
  }
}

}  // namespace tandem::orchestrator
