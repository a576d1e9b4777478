// Approvals and cancels (part of PlanRunner, plan_runner_internal.h).
//
// An irreversible task (plan.md `risk: irreversible`) runs only approved,
// by a person through the run's LiveOps (ops.h, an id per request, several
// open at once) or by the approval policy. In the checkout
// (parallel_tasks = 1) the scheduler asks and waits (Approve); with tasks in
// parallel the question is asked on a thread of its own (AskWithoutWaiting):
// the task shows [?], other tasks go on, and the answer comes back on the
// results queue (OnAnswer: approved -> pending, it then starts without
// asking again). An executor's irreversible command is reviewed by the slow
// tier, then decided by the policy or a person (DecideCommand), on the
// agent's thread: only that agent waits. Every decision is an approvals row
// and an event.
//
// Cancelling one task (a kCancel op): CancelTask, on the op's thread,
// records it, stops its agent (its own InterruptHub) or the merge lane
// gating its result, denies its open approval and wakes the scheduler; the
// scheduler then skips it: one not yet started never starts, a running one
// leaves no change (in the checkout its finished steps are undone,
// UndoTaskSteps; a worktree is just not merged), and one whose result waits
// in the merge queue or is gated in a lane is dropped from it (the lanes
// gated on top of it are gated again without it; DropCancelled). Only once
// its merged tree is being landed is it too late (FailedPrecondition). Its
// dependents stay blocked, as after a denial.
//
// Thread-safety: CancelTask, IsCancelled and RegisterStop lock cancel_mu_
// (CancelTask then done_mu_, never both at once);
// DecideCommand and DecideApproval run on any thread (LiveOps, the ledger
// and the event sink are thread-safe); the rest is scheduler-only.
// Errors: a ledger failure recording a task's approval is returned (Status);
// one recording a command's decision is a warning (the command's result
// still goes back to the executor).
#include <fmt/format.h>

#include "tandem/orchestrator/command_review.h"
#include "tandem/orchestrator/plan_runner_internal.h"

namespace tandem::orchestrator {

using memory::TaskState;
using protocol::NoticeLevel;
using protocol::TaskEnd;

Status PlanRunner::CancelTask(const std::string& task_id) {
  memory::Plan plan = TRY(memory::LoadPlan(plan_path_));
  const PlanTask* task = nullptr;
  for (const PlanTask& t : plan.tasks) {
    if (t.id == task_id) task = &t;
  }
  if (!task) return NotFound(fmt::format("plan.md has no task {}", task_id));
  if (task->state == TaskState::kDone || task->state == TaskState::kFailed ||
      task->state == TaskState::kSkipped) {
    return FailedPrecondition(
        fmt::format("task {} is already {}", task_id, protocol::Name(task->state)));
  }
  {
    MutexLock lock(cancel_mu_);
    if (landing_.count(task_id)) {
      return FailedPrecondition(fmt::format(
          "task {} is being merged into the checkout: its gates passed on the merged tree",
          task_id));
    }
    cancelled_.insert(task_id);
    auto running = task_stops_.find(task_id);
    if (running != task_stops_.end()) running->second->Interrupt();
  }
  {
    // A result waiting in the merge queue has nothing to interrupt: the
    // scheduler drops it (plan_runner_merge.cc, DropCancelled).
    MutexLock lock(done_mu_);
    cancel_posted_ = true;
    done_cv_.notify_one();
  }
  for (const OpenApproval& open : env_.ops ? env_.ops->Pending() : std::vector<OpenApproval>{}) {
    if (open.request.task_id == task_id) {
      // Already answered or closed meanwhile: nothing left to deny.
      [[maybe_unused]] Status denied = env_.ops->Answer(open.id, {false, "cancelled by a person"});
    }
  }
  return Status::Ok();
}

bool PlanRunner::IsCancelled(const std::string& task_id) {
  MutexLock lock(cancel_mu_);
  return cancelled_.count(task_id) > 0;
}

// While `stop` is registered, a cancel of `task_id` interrupts it.
void PlanRunner::RegisterStop(const std::string& task_id, agent::InterruptHub* stop) {
  MutexLock lock(cancel_mu_);
  if (stop) {
    task_stops_[task_id] = stop;
    if (cancelled_.count(task_id)) stop->Interrupt();
  } else {
    task_stops_.erase(task_id);
  }
}

// Undoes in the checkout what the task's finished steps changed since it
// started (task_base_); plan.md and progress.md keep their current text.
Status PlanRunner::UndoTaskSteps(const PlanTask& task) {
  if (task_base_.empty() || !ws_->last_checkpoint()) return Status::Ok();
  workspace::CheckpointId base = TRY(workspace::CheckpointId::Parse(task_base_));
  std::vector<std::string> paths;
  for (const workspace::FileChange& c : TRY(ws_->Diff(base, *ws_->last_checkpoint()))) {
    if (c.path == memory::kPlanFileName || c.path == memory::kProgressFileName) continue;
    paths.push_back(c.path);
  }
  if (paths.empty()) return Status::Ok();
  TRY(ws_->Restore(base, workspace::TouchedPaths::Only(paths)));
  Notice(
      NoticeLevel::kInfo,
      fmt::format("task {} was cancelled: undid its changes to {} file(s)", task.id, paths.size()),
      task.id);
  return Status::Ok();
}

// The approval of an irreversible task, before it starts: nullopt when it
// does not run (denied: skipped; nobody answered: waiting), else whether
// it was approved (false: it needs no approval).
Result<std::optional<bool>> PlanRunner::Approve(const PlanTask& task, Tier tier) {
  if (!NeedsApproval(task.risk)) return std::optional<bool>(false);
  if (approved_.count(task.id)) return std::optional<bool>(true);  // rerun after a merge
  ApprovalRequest request = TRY(RequestApproval(task, tier));
  return Answered(task, tier, request, DecideApproval(request));
}

// Decide() on the run's LiveOps; approval_requested is published as the
// request opens, with its id (several may be open at once).
ApprovalDecision PlanRunner::DecideApproval(const ApprovalRequest& request) {
  return Decide(
      env_.config.approval.policy, env_.ops, request,
      [&](int64_t id) {
        Publish(request.task_id,
                protocol::ApprovalRequested{id, request.what, request.why, request.command});
      },
      WallClockMs);
}

// The task waits for approval ([?], ledger, progress.md, the event).
Result<ApprovalRequest> PlanRunner::RequestApproval(const PlanTask& task, Tier tier) {
  RETURN_IF_ERROR(Mark(task.id, TaskState::kWaiting));
  Upsert(task, TaskState::kWaiting, TierRole(tier), "waiting for approval");
  Progress(memory::RecordOutcome(
      progress_path_, {task.id, task.title, TaskState::kWaiting, 0, "waits for approval"}));
  ApprovalRequest request;
  request.run_id = run_id_;
  request.task_id = task.id;
  request.title = task.title;
  request.what = ApprovalText(task, TierRole(tier), Slot(tier).name);
  request.why = fmt::format(
      "plan.md marks task {} irreversible: it may reach beyond the repository or not be "
      "undoable, so it runs only with approval",
      task.id);
  return request;
}

// Records decision `d` on `request`: nullopt when the task does not run
// (denied: skipped; nobody answered: waiting), else true.
Result<std::optional<bool>> PlanRunner::Answered(const PlanTask& task, Tier tier,
                                                 const ApprovalRequest& request,
                                                 const ApprovalDecision& d) {
  if (d.by_person) AddHumanMs(static_cast<double>(d.waited_ms));
  if (d.kind == ApprovalDecision::Kind::kWaiting) {
    result_.waiting++;
    Notice(NoticeLevel::kWarn, "task " + task.id + " waits for approval: " + d.reason, task.id);
    Publish(task.id, protocol::TaskFinished{TaskEnd::kWaiting, d.reason, 0});
    Progress(memory::RecordOutcome(progress_path_, {task.id, task.title, TaskState::kWaiting, 0,
                                                    "waits for approval: " + d.reason}));
    return std::optional<bool>();
  }
  bool approved = d.kind == ApprovalDecision::Kind::kApproved;
  ledger::ApprovalRecord record;
  record.run_id = run_id_;
  record.task_id = task.id;
  record.what = request.what;
  record.decision =
      approved ? ledger::ApprovalDecision::kApproved : ledger::ApprovalDecision::kDenied;
  record.decided_by = d.by_person ? ledger::DecidedBy::kPerson : ledger::DecidedBy::kPolicy;
  record.waited_ms = d.waited_ms;
  record.reason = d.reason;
  RETURN_IF_ERROR(env_.ledger->RecordApproval(record));
  Publish(task.id, protocol::ApprovalDecided{d.approval_id, record.decision, record.decided_by,
                                             d.waited_ms, d.reason, ""});
  if (!approved) {
    RETURN_IF_ERROR(Skip(task, tier, "denied: " + d.reason));
    return std::optional<bool>();
  }
  approved_.insert(task.id);
  Progress(
      memory::AppendNote(progress_path_, task.id, memory::NoteKind::kDecision,
                         fmt::format("approved by {} after {} ms: {}",
                                     d.by_person ? "a person" : "policy", d.waited_ms, d.reason)));
  return std::optional<bool>(true);
}

// A task's approval, asked on a thread of its own: the loop goes on with
// other tasks; the answer comes back through the results queue.
Status PlanRunner::AskWithoutWaiting(const PlanTask& task, Tier tier) {
  ApprovalRequest request = TRY(RequestApproval(task, tier));
  auto& asking = asking_[task.id];
  asking.task = task;
  asking.tier = tier;
  asking.request = request;
  asking.thread = std::jthread([this, request, id = task.id] {
    ApprovalDecision d = DecideApproval(request);
    MutexLock lock(done_mu_);
    answers_.push_back({id, d});
    done_cv_.notify_one();
  });
  return Status::Ok();
}

// An answer to AskWithoutWaiting: approved tasks become pending (and then
// start without asking again).
Status PlanRunner::OnAnswer(const std::string& task_id, const ApprovalDecision& d) {
  auto it = asking_.find(task_id);
  if (it == asking_.end()) return Status::Ok();
  it->second.thread.join();
  Asking asked = std::move(it->second);
  asking_.erase(it);
  std::optional<bool> approved = TRY(Answered(asked.task, asked.tier, asked.request, d));
  if (approved && *approved) {
    RETURN_IF_ERROR(Mark(task_id, TaskState::kPending));
    Upsert(asked.task, TaskState::kPending, TierRole(asked.tier), "approved");
  }
  return Status::Ok();
}

// The step of `task_id` that is running now (it asked for a command).
std::optional<ledger::StepId> PlanRunner::RunningStep(const std::string& task_id) {
  auto step = env_.ledger->RunningStepOf(run_id_, task_id);
  if (!step) {
    Notice(NoticeLevel::kWarn, "ledger: " + step.error().message(), task_id);
    return std::nullopt;
  }
  return *step;
}

// An executor's command that the classifier marks irreversible: the slow
// tier reviews it; if it says run, the approval policy (or a person at the
// prompt) decides. Every decision is an approvals row and an event; a
// refusal's reason goes back to the executor as the tool result.
//
// With parallel tasks it runs on the agent's thread (`ws` is the agent's
// workspace): only that agent waits; other prompts may be open meanwhile.
tools::CommandDecision PlanRunner::DecideCommand(const PlanTask& task, const std::string& command,
                                                 const std::string& why, workspace::Workspace& ws) {
  std::optional<ledger::StepId> step = RunningStep(task.id);
  Notice(NoticeLevel::kInfo,
         fmt::format("`{}` is irreversible ({}): the {} tier reviews it", command, why,
                     TierRole(Tier::kSlow)),
         task.id);
  ReviewerEnv reviewer{env_.slow, TierRole(Tier::kSlow), env_.events, env_.ledger,
                       step,      env_.interrupts};
  CommandReview review = ReviewCommand(
      reviewer, {run_id_, task.id, task.id + ": " + task.title + "\n" + task.what, command, why});
  AddSpend(review.usage, review.cost_usd, review.model_ms);

  ledger::ApprovalRecord record;
  record.run_id = run_id_;
  record.task_id = task.id;
  record.step_id = step;
  record.what = command;
  tools::CommandDecision decision;
  decision.review_cost_usd = review.cost_usd;
  protocol::DecidedBy decided_by = protocol::DecidedBy::kPolicy;
  int64_t approval_id = 0;
  if (!review.run) {
    // The slow tier is not a person: its refusal is a policy decision.
    decision.reason =
        fmt::format("the {} tier refused it: {}", TierRole(Tier::kSlow), review.reason);
    record.decision = ledger::ApprovalDecision::kDenied;
    record.decided_by = ledger::DecidedBy::kPolicy;
    decided_by = protocol::DecidedBy::kSlowTier;
  } else {
    ApprovalRequest request;
    request.run_id = run_id_;
    request.task_id = task.id;
    request.title = task.title;
    request.command = command;
    request.what = command;
    request.why = fmt::format(
        "the classifier marks it irreversible ({}); the {} tier ({}) reviewed it and says run: "
        "{}",
        why, TierRole(Tier::kSlow), env_.slow.name, review.reason);
    ApprovalDecision d = DecideApproval(request);
    approval_id = d.approval_id;
    if (d.by_person) AddHumanMs(static_cast<double>(d.waited_ms));
    decision.human_wait_ms = static_cast<double>(d.waited_ms);
    decision.run = d.kind == ApprovalDecision::Kind::kApproved;
    decision.reason = d.kind == ApprovalDecision::Kind::kWaiting
                          ? "nobody approved it: " + d.reason
                          : (decision.run ? "approved: " : "denied: ") + d.reason;
    record.reason = d.reason;
    record.decision =
        decision.run ? ledger::ApprovalDecision::kApproved : ledger::ApprovalDecision::kDenied;
    record.decided_by = d.by_person ? ledger::DecidedBy::kPerson : ledger::DecidedBy::kPolicy;
    record.waited_ms = d.waited_ms;
    decided_by = record.decided_by;
  }
  if (record.reason.empty()) record.reason = decision.reason;
  Status recorded = env_.ledger->RecordApproval(record);
  if (!recorded.ok()) Notice(NoticeLevel::kWarn, "ledger: " + recorded.message(), task.id);
  Publish(task.id, protocol::ApprovalDecided{approval_id, record.decision, decided_by,
                                             record.waited_ms, record.reason, command});
  Note(task.id, memory::NoteKind::kDecision,
       fmt::format("command `{}` {}", command, decision.reason));
  // It runs outside the sandbox, where the inotify watch may miss what it
  // does (a hard link from outside the worktree): the step rescans.
  if (decision.run) ws.DistrustWatch();
  return decision;
}

}  // namespace tandem::orchestrator
