// Escalation: the TaskQueue's failure hook (part of PlanRunner,
// plan_runner_internal.h). A task that failed after its retry budget (or
// could not be merged more than max_conflict_requeues times) is handed to
// the planner, at most RunPolicy::max_escalations times per task (a resumed
// run counts the ones the ledger holds). The planner decides:
//   - slow tier: the task runs again on the slow tier (kRetry);
//   - rewrite: plan.md's block for the task is replaced, the task runs
//     again from its new text on the executor tier (kRetry);
//   - split: the task is skipped, its parts are inserted after it and its
//     dependents wait for them (kGiveUp for the task; the parts reach the
//     queue with the next TaskQueue::Update);
// and when the budget is spent, no planner is configured or the re-plan
// fails, the task is failed for good (kGiveUp: its dependents are blocked
// and the run goes on with the rest). A re-plan that cannot be applied to
// plan.md counts as an escalation and the planner is asked again.
//
// Thread-safety: scheduler thread only (the hook runs inside
// TaskQueue::TaskFinished; it never calls back into the queue).
// Errors: Finish returns the escalation's error (ledger, plan.md) after the
// queue recorded the task as given up; the run then stops.
#include <fmt/format.h>

#include "tandem/base/kill_point.h"
#include "tandem/memory/memory_file.h"
#include "tandem/orchestrator/plan_edit.h"
#include "tandem/orchestrator/plan_runner_internal.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/platform/process.h"

namespace tandem::orchestrator {

using memory::TaskState;
using protocol::NoticeLevel;
using protocol::TaskEnd;

// Tells the queue how task ended (kFailed, or kConflict: not merged);
// when that is a failure, the queue's hook (OnFailure) escalates it.
// Returns whether it was escalated.
Result<bool> PlanRunner::Finish(const PlanTask& task, Tier tier, TaskOutcome outcome,
                                agent::TaskResult result) {
  failing_ = Failing{task, tier, std::move(result)};
  escalated_ = false;
  hook_status_ = Status::Ok();
  Status finished = queue_->TaskFinished(task.id, outcome);
  failing_.reset();
  RETURN_IF_ERROR(finished);
  RETURN_IF_ERROR(hook_status_);
  return escalated_;
}

FailureDecision PlanRunner::OnFailure(const std::string& task_id) {
  escalated_ = true;
  if (!failing_ || failing_->task.id != task_id) {
    hook_status_ = Internal("task " + task_id + " failed outside PlanRunner::Finish");
    return FailureDecision::kGiveUp;
  }
  Result<FailureDecision> decision =
      Escalate(failing_->task, failing_->tier, std::move(failing_->outcome));
  if (!decision) {
    hook_status_ = decision.error();
    return FailureDecision::kGiveUp;
  }
  return *decision;
}

std::string PlanRunner::BestAttemptDiff(const agent::TaskResult& outcome) {
  if (outcome.best_attempt_ref.empty() || task_base_.empty()) return "";
  platform::ProcessSpec spec;
  spec.argv = {"git", "diff", task_base_, outcome.best_attempt_ref, "--"};
  spec.cwd = env_.repo_root;
  spec.timeout = std::chrono::seconds(30);
  spec.output_limit = 6000;
  auto run = platform::RunProcess(spec);
  return run && run->ok() ? run->output : "";
}

// The executor spent its retry budget: the planner decides, within budget.
Result<FailureDecision> PlanRunner::Escalate(const PlanTask& failed_task, Tier tier,
                                             agent::TaskResult outcome) {
  PlanTask task = failed_task;
  Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kFailure,
                              fmt::format("attempt {} on the {} tier: {}", attempts_[task.id],
                                          TierRole(tier), outcome.summary)));
  while (true) {
    int& count = escalations_[task.id];
    if (Interrupted()) {
      agent::TaskResult stopped;
      stopped.outcome = agent::TaskOutcome::kInterrupted;
      RETURN_IF_ERROR(RecordStopped(task, tier, stopped));
      return FailureDecision::kGiveUp;
    }
    if (count >= env_.policy.max_escalations || !env_.planner.client) {
      RETURN_IF_ERROR(Fail(task, tier,
                           fmt::format("{} (after {} escalations)", outcome.summary, count),
                           outcome.totals.retries));
      return FailureDecision::kGiveUp;
    }
    auto plan_text = memory::ReadMemoryFile(plan_path_);
    if (!plan_text) return plan_text.error();
    PlannerSpend spend;
    PlannerEnv planner{env_.planner, env_.events, env_.ledger, run_id_, &spend};
    ReplanContext context{*plan_text, task, outcome.summary, BestAttemptDiff(outcome), count};
    auto replan = AskReplan(planner, context);
    // The re-plan is part of the run: its tokens, cost and time count.
    AddSpend(spend.usage, spend.cost_usd, spend.model_ms);
    if (!replan) {
      Notice(NoticeLevel::kWarn, "re-plan failed: " + replan.error().message(), task.id);
      RETURN_IF_ERROR(Fail(task, tier,
                           outcome.summary + "; re-plan failed: " + replan.error().message(),
                           outcome.totals.retries));
      return FailureDecision::kGiveUp;
    }
    count++;
    std::string to_tier =
        replan->action == EscalationAction::kSlowTier ? TierRole(Tier::kSlow) : "planner";
    ledger::EscalationRecord record{run_id_, task.id,        TierRole(tier),
                                    to_tier, replan->action, replan->reason};
    RETURN_IF_ERROR(env_.ledger->RecordEscalation(record));
    Publish(task.id, protocol::Escalated{replan->action, TierRole(tier), to_tier, replan->reason});

    if (replan->action == EscalationAction::kSlowTier) {
      Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kDecision,
                                  "escalated to the slow tier: " + replan->reason));
      // The queue starts it again, on the slow tier.
      tier_of_[task.id] = Tier::kSlow;
      RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
      Upsert(task, TaskState::kPending, TierRole(Tier::kSlow), "escalated to the slow tier");
      return FailureDecision::kRetry;
    }

    std::vector<std::string> new_ids;
    for (const PlanTask& t : replan->tasks) new_ids.push_back(t.id);
    Status edited = EditPlan([&](const std::string& text) -> Result<std::string> {
      std::string updated = TRY(replan->action == EscalationAction::kRewrite
                                    ? RewriteTaskInText(text, task.id, replan->tasks[0])
                                    : SplitTaskInText(text, task.id, replan->tasks));
      memory::Plan parsed = TRY(memory::ParsePlan(updated));
      RETURN_IF_ERROR(CheckPlanGates(parsed, env_.gates));
      return updated;
    });
    if (!edited.ok()) {
      Notice(NoticeLevel::kWarn, "the planner's re-plan cannot be applied: " + edited.message(),
             task.id);
      continue;  // counts as an escalation; ask again within budget
    }
    KillPoint("plan_edit_written");  // crash tests: plan.md merged, nothing else recorded
    if (replan->action == EscalationAction::kRewrite) {
      Upsert(task, TaskState::kPending, TierRole(tier), "rewritten by the planner");
      Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kDecision,
                                  "rewritten by the planner: " + replan->reason));
      tier_of_.erase(task.id);         // a new task: the executor tier first
      return FailureDecision::kRetry;  // from its new text in plan.md (TaskQueue::Update)
    }
    std::string why = fmt::format("split into {}: {}", fmt::join(new_ids, ", "), replan->reason);
    for (const std::string& id : new_ids) escalations_[id] = count;
    Upsert(task, TaskState::kSkipped, TierRole(tier), why);
    Progress(memory::RecordOutcome(
        progress_path_, {task.id, task.title, TaskState::kSkipped, outcome.totals.retries, why}));
    result_.skipped++;
    Publish(task.id, protocol::TaskFinished{TaskEnd::kSkipped, why, outcome.totals.retries});
    return FailureDecision::kGiveUp;  // its dependents now wait for the parts
  }
}

// Applies `edit` to plan.md atomically; a person's save in between is
// re-read and the edit redone.
Status PlanRunner::EditPlan(const std::function<Result<std::string>(const std::string&)>& edit) {
  auto lock = TRY(platform::DirectoryLock::Acquire(root_));
  Status written;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string text = TRY(memory::ReadMemoryFile(plan_path_));
    std::string updated = TRY(edit(text));
    written = platform::WriteFileAtomically(plan_path_, updated,
                                            platform::WriteOptions::IfUnchanged(text));
    if (written.code() != StatusCode::kFailedPrecondition) return written;
  }
  return written;
}

}  // namespace tandem::orchestrator
