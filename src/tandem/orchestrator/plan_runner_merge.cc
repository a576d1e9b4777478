// The merge queue (part of PlanRunner, plan_runner_internal.h). With tasks
// in parallel, each agent works in a pooled worktree (<run>-slot-K under
// the git directory, created once, then reset for its next use; RunAgent),
// and a task whose gates passed there is integrated by the merge queue, as
// merge queues integrate pull requests:
//   - Settled successes wait in `to_merge_` (in the order they settled).
//     PumpMerges takes them into lanes: a lane is a batch of them (all with
//     the same gates) merged with libgit2's three-way tree merge (base: the
//     checkpoint the task's worktree started from; ours: the tree the lane
//     goes onto; theirs: the agent's last checkpoint; plan.md and
//     progress.md always ours) onto the tree of the lane ahead of it, or
//     onto the integrated tree (the checkout's last checkpoint) for the
//     first lane, the head. Each lane's gates run on its merged tree in a
//     pooled worktree on a thread of their own (GateLane), so a lane is
//     gated while the lanes ahead of it still are (speculatively: it
//     counts only if they pass), and the scheduler goes on starting and
//     settling agents meanwhile. At most max(2, parallel_) lanes at once,
//     and a lane behind others only while a job token is free: otherwise
//     the results wait and go into one batch (one gate round, not one per
//     result, when the job budget is what binds).
//     Its gate runs are recorded against a ledger step of the lane's first
//     task with no checkpoint (note "merge lane: ...").
//   - Verdicts are taken in lane order (OnGated). The head passed: its
//     merged files go into the checkout (Land: a ledger step per task, the
//     first carrying the change) and its tasks are done; "done" still means
//     tandem saw the gates pass on the integrated tree that contains the
//     task (the same files; tandem's own plan.md and progress.md may have
//     moved on). The head failed (Rejected): every lane behind it was gated
//     on top of it, so they are discarded and their tasks go back to the
//     queue's front to be gated again without it; a batch of several is
//     retried one task per lane, so the task that breaks the tree is the
//     one that runs again; a single task is handed back to the task queue
//     (TaskFinished(kConflict): it runs again on the integrated tree with
//     the gates' feedback; past the queue's limit it escalates as a
//     failure).
//   - A merge conflict with the integrated tree requeues the task the same
//     way; a conflict with a lane ahead (not yet integrated) waits for that
//     lane to land or fail.
//   - A cancelled task (a kCancel op) leaves the queue (DropCancelled): a
//     waiting result is dropped; a lane holding it is stopped with every
//     lane behind it (all gated on top of it), their slots go back to the
//     pool, and their other tasks are gated again without it. The task ends
//     skipped, as a cancel of a running task does. Once its lane's merged
//     tree is being landed (ClaimLanding) a cancel is refused.
// The checkout only ever receives trees whose gates passed; a kill -9
// leaves at most a landing's ledger steps running, whose checkpoint before
// is on the run's chain (resume rolls it back; the tasks run again).
//
// Thread-safety: scheduler thread only, except RunAgent (on its agent's
// thread: it touches only its worktree and the Agent it is handed) and
// GateLane (on its lane's thread: its worktree, the Lane it is handed, and
// the thread-safe ledger, event sink and job budget).
// Errors: git, libgit2 and ledger failures are returned (the run stops);
// a conflict or a failing gate is not an error.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

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

// Two tasks share a lane only when their gates are the same.
std::string GateKey(const agent::TaskEnv& env) {
  std::string k;
  for (const verify::Gate& g : env.gates) k += g.name + '\0' + g.command + '\0';
  return k;
}

const std::vector<std::string>& KeepOurs() {
  static const std::vector<std::string> keep{std::string(memory::kPlanFileName),
                                             std::string(memory::kProgressFileName)};
  return keep;
}

std::string Ids(const std::vector<std::string>& ids) {
  return fmt::format("{}", fmt::join(ids, ", "));
}

}  // namespace

using memory::TaskState;
using protocol::NoticeLevel;

// On the agent's thread: its worktree at the integrated checkpoint, its
// own Workspace, then the task.
Result<agent::TaskResult> PlanRunner::RunAgent(Agent& a) {
  if (a.reuse) {
    a.ws = TRY(workspace::Worktree::Reset(root_, a.slot, a.base, std::move(a.ws)));
  } else {
    a.ws = TRY(workspace::Workspace::Open(
        TRY(workspace::Worktree::Create(root_, a.slot, a.base)).root()));
  }
  workspace::Workspace* ws = a.ws.get();
  TRY(ws->StartRun(fmt::format("{}.{}.{}", run_id_, a.task.id, a.attempt)));
  a.env.repo_root = ws->root();
  workspace::Workspace* agent_ws = ws;
  PlanTask task = a.task;
  a.env.irreversible_commands = [this, task, agent_ws](const std::string& command,
                                                       const std::string& why) {
    return DecideCommand(task, command, why, *agent_ws);
  };
  return agent::ExecuteTask(a.spec, a.env, *ws, nullptr);
}

// A worktree of the pool for an agent or a lane: an idle one (reuse: it
// exists, Reset it, with the Workspace its last user left in `ws`, so the
// reset costs what changed) or a new name (Create it).
std::pair<std::string, bool> PlanRunner::TakeSlot(std::unique_ptr<workspace::Workspace>* ws) {
  if (free_slots_.empty()) return {fmt::format("{}-slot-{}", run_id_, ++slots_made_), false};
  std::string slot = free_slots_.back();
  free_slots_.pop_back();
  auto it = slot_ws_.find(slot);
  if (it != slot_ws_.end()) {
    *ws = std::move(it->second);
    slot_ws_.erase(it);
  }
  return {slot, made_slots_.count(slot) > 0};
}

void PlanRunner::GiveSlot(const std::string& slot, std::unique_ptr<workspace::Workspace> ws) {
  made_slots_.insert(slot);
  free_slots_.push_back(slot);
  if (ws) slot_ws_[slot] = std::move(ws);
}

// Takes waiting merges into lanes while there is room: a batch is the
// first waiting merge and every later one with the same gates (unless one
// of them must go alone), each merged onto the tip (the last lane's tree,
// or the integrated tree). A conflict with the integrated tree requeues the
// task; one with a lane ahead or an earlier task of the batch leaves it
// waiting until that lane has landed or failed.
Status PlanRunner::PumpMerges() {
  RETURN_IF_ERROR(DropCancelled());
  if (!Going()) return CloseMerges();
  const size_t max_lanes = std::max<size_t>(2, parallel_);
  // A lane behind others opens only when its gates could start now: while
  // every job token is taken, results keep waiting and join one batch (one
  // gate round for all of them) instead of lanes that would each wait for
  // a token. The lanes ahead wake the loop when they end.
  auto token_free = [this] {
    const platform::JobBudget* jobs = env_.job_budget;
    return jobs == nullptr || jobs->available() > jobs->waiting();
  };
  while (!to_merge_.empty() && lanes_.size() < max_lanes && (lanes_.empty() || token_free())) {
    if (lanes_.empty()) CheckpointMemory();
    const workspace::CheckpointId onto =
        lanes_.empty() ? *ws_->last_checkpoint() : lanes_.back()->merged;
    const std::string key = GateKey(to_merge_.front().agent->env);
    const bool alone = to_merge_.front().alone;
    workspace::CheckpointId tip = onto;
    std::set<std::string> changed;
    std::vector<Finished> batch;
    std::deque<Finished> waiting;
    for (Finished& f : to_merge_) {
      if (!batch.empty() && (alone || f.alone || GateKey(f.agent->env) != key)) {
        waiting.push_back(std::move(f));
        continue;
      }
      auto theirs = TRY(workspace::CheckpointId::Parse(f.outcome.final_checkpoint));
      workspace::TreeMerge merge =
          TRY(workspace::MergeCheckpoints(root_, f.agent->base, tip, theirs, KeepOurs()));
      if (merge.merged) {
        tip = *merge.merged;
        changed.insert(merge.changed.begin(), merge.changed.end());
        batch.push_back(std::move(f));
      } else if (lanes_.empty() && batch.empty()) {
        task_base_ = f.agent->base.hex;
        RETURN_IF_ERROR(
            Requeue(f.agent->task, f.agent->tier, ConflictText(merge), std::move(f.outcome)));
      } else {
        waiting.push_back(std::move(f));
      }
    }
    to_merge_ = std::move(waiting);
    if (batch.empty()) break;  // the rest waits for the lanes ahead
    RETURN_IF_ERROR(StartLane(std::move(batch), onto, tip, {changed.begin(), changed.end()}));
  }
  for (Finished& f : to_merge_) {
    if (f.waited) continue;
    f.waited = true;
    Notice(NoticeLevel::kInfo,
           fmt::format("task {} waits in the merge queue: {} lane(s) ahead of it are being gated",
                       f.agent->task.id, lanes_.size()),
           f.agent->task.id);
  }
  return Status::Ok();
}

Status PlanRunner::StartLane(std::vector<Finished> batch, const workspace::CheckpointId& onto,
                             const workspace::CheckpointId& merged,
                             std::vector<std::string> changed) {
  auto lane = std::make_unique<Lane>();
  lane->id = ++lanes_made_;
  lane->onto = onto;
  lane->merged = merged;
  lane->changed = std::move(changed);
  std::tie(lane->slot, lane->reuse) = TakeSlot(&lane->ws);
  lane->stop = std::make_unique<agent::InterruptHub>(&agents_stop_);
  std::vector<std::string> ids;
  for (const Finished& f : batch) ids.push_back(f.agent->task.id);
  std::vector<std::string> ahead;
  for (const auto& l : lanes_) {
    for (const Finished& f : l->batch) ahead.push_back(f.agent->task.id);
  }
  lane->batch = std::move(batch);
  Notice(NoticeLevel::kInfo,
         fmt::format("merging task(s) {} ({} file(s)): their gates run on the merged tree in "
                     "worktree {}{}",
                     Ids(ids), lane->changed.size(), lane->slot,
                     ahead.empty() ? std::string()
                                   : ", speculatively on top of task(s) " + Ids(ahead) +
                                         " still being gated"),
         ids.size() == 1 ? ids[0] : "");
  Lane* raw = lane.get();
  lanes_.push_back(std::move(lane));
  // A cancel of one of its tasks stops the lane's gates (DropCancelled
  // then drops the task).
  for (const Finished& f : raw->batch) RegisterStop(f.agent->task.id, raw->stop.get());
  raw->thread = std::jthread([this, raw] {
    Result<agent::VerifiedStepPolicy::GateCheck> check = GateLane(*raw);
    MutexLock lock(done_mu_);
    gated_.push_back({raw->id, std::move(check)});
    done_cv_.notify_one();
  });
  return Status::Ok();
}

// On the lane's thread: its worktree reset to the merged commit, a
// Workspace over it, then the batch's gates (those of its first task; they are the
// same for all) as a final round, recorded against a ledger step of the
// first task that holds no checkpoint (nothing of the checkout changes
// here: a resume has nothing to roll back for it).
Result<agent::VerifiedStepPolicy::GateCheck> PlanRunner::GateLane(Lane& lane) {
  if (lane.reuse) {
    lane.ws = TRY(workspace::Worktree::Reset(root_, lane.slot, lane.merged, std::move(lane.ws)));
  } else {
    lane.ws = TRY(workspace::Workspace::Open(
        TRY(workspace::Worktree::Create(root_, lane.slot, lane.merged)).root()));
  }
  // No run of its own: the merged commit is the checkpoint gated (the
  // worktree was just reset to it), so no scan of the tree is needed.
  workspace::Workspace* ws = lane.ws.get();
  const Agent& first = *lane.batch[0].agent;
  agent::TaskEnv env = first.env;
  env.repo_root = ws->root();
  env.interrupts = lane.stop.get();
  ledger::StepId step =
      TRY(env_.ledger->BeginStep({run_id_, first.task.id, first.attempt, std::string()}));
  auto check = agent::CheckGates(first.spec, env, *ws, lane.merged, step);
  ledger::StepEnd end;
  end.state = check && check->passed ? ledger::StepState::kDone : ledger::StepState::kRolledBack;
  end.files_changed = static_cast<int64_t>(lane.changed.size());
  end.note = lane.stop->interrupted()
                 ? "merge lane: stopped (a lane ahead failed, a task was cancelled, or the run)"
             : !check                 ? "merge lane: " + check.error().message()
             : check->passed          ? "merge lane: gates passed on the merged tree"
                                      : "merge lane: gates failed on the merged tree";
  Status ended = env_.ledger->EndStep(step, end);
  if (!check) return check.error();
  RETURN_IF_ERROR(ended);
  return check;
}

// Verdicts of lanes, taken in lane order: while the head has one, it lands
// (passed) or is rejected (failed: the lanes behind it are discarded).
Status PlanRunner::OnGated(std::vector<LaneDone> gated) {
  RETURN_IF_ERROR(DropCancelled());
  for (LaneDone& d : gated) {
    for (auto& lane : lanes_) {
      if (lane->id == d.lane) lane->verdict = std::move(d.check);
    }
    // A discarded lane's verdict is no longer wanted.
  }
  while (!lanes_.empty() && lanes_.front()->verdict) {
    // A task cancelled since the lane's verdict: the lane does not count.
    const Lane& front = *lanes_.front();
    const bool lands = *front.verdict && (*front.verdict)->passed && Going();
    if (lands ? !ClaimLanding(front) : AnyCancelled(front)) {
      RETURN_IF_ERROR(DropCancelled());
      continue;
    }
    std::unique_ptr<Lane> head = std::move(lanes_.front());
    lanes_.pop_front();
    ReleaseLane(*head, /*stop=*/false);
    if (!*head->verdict) {
      Status error = head->verdict->error().WithContext("gating merged tasks");
      for (Finished& f : head->batch) to_merge_.push_front(std::move(f));
      DiscardLanes();
      return error;  // the run stops; CloseMerges puts the tasks back to pending
    }
    if (!Going()) {
      for (Finished& f : head->batch) RETURN_IF_ERROR(NotMerged(f));
      continue;
    }
    if ((*head->verdict)->passed) {
      RETURN_IF_ERROR(Land(*head));
      continue;
    }
    DiscardLanes();
    return Rejected(*head, (*head->verdict)->feedback);
  }
  return Status::Ok();
}

// The head lane passed: its merged files go into the checkout, a ledger
// step per task (the first carries the change; the others keep the
// checkpoint), and its tasks are done.
Status PlanRunner::Land(Lane& lane) {
  CheckpointMemory();
  workspace::CheckpointId ours = *ws_->last_checkpoint();
  std::vector<ledger::StepId> steps;
  for (const Finished& f : lane.batch) {
    const Agent& a = *f.agent;
    steps.push_back(TRY(env_.ledger->BeginStep({run_id_, a.task.id, a.attempt, ours.hex})));
  }
  KillPoint("merge_step_begun");  // crash tests: the merge's rows are 'running'
  workspace::CheckpointId landed =
      TRY(ws_->Restore(lane.merged, workspace::TouchedPaths::Only(lane.changed)));
  KillPoint("merge_applied");  // crash tests: the merged files are in the checkout
  std::vector<std::string> ids;
  for (const Finished& f : lane.batch) ids.push_back(f.agent->task.id);
  Notice(NoticeLevel::kInfo,
         fmt::format("merged task(s) {} ({} file(s)) into the checkout: their gates passed on "
                     "the merged tree",
                     Ids(ids), lane.changed.size()),
         ids.size() == 1 ? ids[0] : "");
  ledger::StepEnd end;
  end.files_changed = static_cast<int64_t>(lane.changed.size());
  end.note = "merged into the integrated tree";
  // The first task's step carries the whole change and is done first: a
  // resume then undoes the batch only while none of it is done, and a
  // later task of the batch left undone runs again on a tree that already
  // holds its work.
  for (size_t i = 0; i < steps.size(); ++i) {
    end.checkpoint_after = i == 0 ? landed.hex : ours.hex;
    RETURN_IF_ERROR(env_.ledger->EndStep(steps[i], end));
  }
  for (Finished& f : lane.batch) {
    task_base_ = f.agent->base.hex;
    RETURN_IF_ERROR(Done(f.agent->task, f.agent->tier, f.outcome));
  }
  return Status::Ok();
}

// The head lane's gates failed on its merged tree (nothing reached the
// checkout; the ledger gets a rolled-back step per task). A batch of
// several is retried one task per lane, first in the queue; a single task
// runs again on the integrated tree with the gates' feedback.
Status PlanRunner::Rejected(Lane& lane, const std::string& feedback) {
  CheckpointMemory();
  workspace::CheckpointId ours = *ws_->last_checkpoint();
  const bool batch = lane.batch.size() > 1;
  RETURN_IF_ERROR(RecordMergeSteps(lane, ledger::StepState::kRolledBack, ours, ours,
                                   batch ? "gates failed on a batch of merges; merging one by one"
                                         : "gates failed on the merged tree"));
  if (batch) {
    for (auto f = lane.batch.rbegin(); f != lane.batch.rend(); ++f) {
      f->alone = true;
      to_merge_.push_front(std::move(*f));
    }
    return Status::Ok();
  }
  Finished& f = lane.batch[0];
  task_base_ = f.agent->base.hex;
  return Requeue(f.agent->task, f.agent->tier,
                 "it passed its gates alone, but they fail on the merged tree (with the tasks "
                 "merged since it started): " +
                     feedback,
                 std::move(f.outcome));
}

// Every lane still being gated was gated on top of the head, which did not
// land: each is stopped, and its tasks go back to the front of the queue
// (in their order, before the merges that were waiting) to be gated again
// on what is integrated now.
void PlanRunner::DiscardLanes() {
  std::deque<Finished> back;
  std::vector<std::string> ids;
  for (auto& lane : lanes_) {
    ReleaseLane(*lane, /*stop=*/true);
    for (Finished& f : lane->batch) {
      ids.push_back(f.agent->task.id);
      back.push_back(std::move(f));
    }
  }
  lanes_.clear();
  if (ids.empty()) return;
  Notice(NoticeLevel::kInfo,
         fmt::format("task(s) {} are gated again without the merge ahead of them, which failed",
                     Ids(ids)));
  for (Finished& f : to_merge_) back.push_back(std::move(f));
  to_merge_ = std::move(back);
}

// A lane that ends (landed, rejected, discarded or dropped): its gates
// stopped first when `stop`, its thread joined, its tasks no longer
// cancelled through it, its worktree back in the pool (reset at its next
// use).
void PlanRunner::ReleaseLane(Lane& lane, bool stop) {
  if (stop) lane.stop->Interrupt();
  if (lane.thread.joinable()) lane.thread.join();
  for (const Finished& f : lane.batch) RegisterStop(f.agent->task.id, nullptr);
  GiveSlot(lane.slot, std::move(lane.ws));
}

bool PlanRunner::AnyCancelled(const Lane& lane) {
  return std::any_of(lane.batch.begin(), lane.batch.end(),
                     [this](const Finished& f) { return IsCancelled(f.agent->task.id); });
}

// Whether `lane` may land: none of its tasks is cancelled, and from now on
// none can be (CancelTask refuses a task in landing_), in one step.
bool PlanRunner::ClaimLanding(const Lane& lane) {
  MutexLock lock(cancel_mu_);
  for (const Finished& f : lane.batch) {
    if (cancelled_.count(f.agent->task.id)) return false;
  }
  for (const Finished& f : lane.batch) landing_.insert(f.agent->task.id);
  return true;
}

// Cancelled tasks leave the merge queue: a waiting result is dropped; the
// first lane holding one is stopped with every lane behind it (they were
// gated on top of it), their worktrees go back to the pool, and their
// other tasks return to the queue's front, in order, to be gated again
// without the cancelled ones. Lanes ahead are untouched.
Status PlanRunner::DropCancelled() {
  std::vector<Finished> dropped;
  std::deque<Finished> keep;
  for (Finished& f : to_merge_) {
    if (IsCancelled(f.agent->task.id)) {
      dropped.push_back(std::move(f));
    } else {
      keep.push_back(std::move(f));
    }
  }
  to_merge_ = std::move(keep);
  auto first = std::find_if(lanes_.begin(), lanes_.end(),
                            [this](const std::unique_ptr<Lane>& l) { return AnyCancelled(*l); });
  std::deque<Finished> back;
  std::vector<std::string> again, cancelled;
  for (auto it = first; it != lanes_.end(); ++it) {
    ReleaseLane(**it, /*stop=*/true);
    for (Finished& f : (*it)->batch) {
      if (IsCancelled(f.agent->task.id)) {
        dropped.push_back(std::move(f));
      } else {
        again.push_back(f.agent->task.id);
        back.push_back(std::move(f));
      }
    }
  }
  lanes_.erase(first, lanes_.end());
  Status first_error;
  for (Finished& f : dropped) {
    cancelled.push_back(f.agent->task.id);
    Status skipped = DropCancelledResult(f);
    if (first_error.ok()) first_error = skipped;
  }
  if (!again.empty()) {
    Notice(NoticeLevel::kInfo,
           fmt::format("task(s) {} are gated again without cancelled task(s) {}", Ids(again),
                       Ids(cancelled)));
  }
  for (Finished& f : to_merge_) back.push_back(std::move(f));
  to_merge_ = std::move(back);
  return first_error;
}

// A cancelled task's result, out of the merge queue: never merged; the
// task ends skipped, as a cancel of its running agent does (Settle).
Status PlanRunner::DropCancelledResult(Finished& f) {
  const Agent& a = *f.agent;
  Notice(NoticeLevel::kInfo,
         fmt::format("task {} was cancelled: its result leaves the merge queue unmerged",
                     a.task.id),
         a.task.id);
  RETURN_IF_ERROR(SkipCancelled(a.task, a.tier));
  return queue_->TaskFinished(a.task.id, TaskOutcome::kStopped);
}

// A step per task of `lane`, begun and ended at once: the ledger's record
// of a merge that reached no checkout.
Status PlanRunner::RecordMergeSteps(const Lane& lane, ledger::StepState state,
                                    const workspace::CheckpointId& before,
                                    const workspace::CheckpointId& after,
                                    const std::string& note) {
  ledger::StepEnd end;
  end.state = state;
  end.checkpoint_after = after.hex;
  end.files_changed = static_cast<int64_t>(lane.changed.size());
  end.note = note;
  for (const Finished& f : lane.batch) {
    const Agent& a = *f.agent;
    ledger::StepId step = TRY(env_.ledger->BeginStep({run_id_, a.task.id, a.attempt, before.hex}));
    RETURN_IF_ERROR(env_.ledger->EndStep(step, end));
  }
  return Status::Ok();
}

// The run stops: merges still waiting are not made; their tasks go back to
// pending (they run again on resume). Lanes in flight end as their gates
// are interrupted (OnGated sends them here too).
Status PlanRunner::CloseMerges() {
  Status first;
  while (!to_merge_.empty()) {
    Finished f = std::move(to_merge_.front());
    to_merge_.pop_front();
    Status closed = NotMerged(f);
    if (first.ok()) first = closed;
  }
  return first;
}

Status PlanRunner::NotMerged(Finished& f) {
  const PlanTask& task = f.agent->task;
  Upsert(task, TaskState::kPending, TierRole(f.agent->tier), "not merged: stopped with the run");
  Publish(task.id, protocol::TaskFinished{protocol::TaskEnd::kInterrupted,
                                          "not merged: stopped with the run",
                                          f.outcome.totals.retries});
  RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
  return queue_->TaskFinished(task.id, TaskOutcome::kStopped);
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
  slot_ws_.clear();  // their watches and index copies go before the trees
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
  // A kill while a pooled worktree was created or reset (an agent's or a
  // merge lane's thread) leaves refs/tandem/worktrees/<id>.lock, and git
  // then refuses to delete or move that ref: the run owns the repository
  // now, so every such lock is stale.
  if (auto git_dir = ledger::GitCommonDir(root_)) {
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(*git_dir / "refs/tandem/worktrees", ec)) {
      if (entry.path().extension() != ".lock") continue;
      std::error_code removed;
      std::filesystem::remove(entry.path(), removed);
    }
  }
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
