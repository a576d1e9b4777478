// `tandem run` and `tandem resume`: the scheduling loop (PlanRunner,
// plan_runner_internal.h; the contract is in plan_runner.h).
//
// One loop for every run, the shape of ninja's Builder over its Plan: a
// TaskQueue (task_queue.h) says which task may start (readiness, capacity
// `parallel_`, the scope-overlap rule); the loop starts tasks while it has
// capacity (FillCapacity: `while (auto id = queue.FindWork()) start(id)`),
// waits for a result, settles it (TaskFinished: done; conflict -> requeued;
// failure -> the queue's on_failure hook escalates or gives up, see
// plan_runner_escalation.cc), and goes round until nothing runs and nothing
// can start.
//   - parallel_ == 1: a task's agent runs on this thread, in the checkout;
//     no worktree, no merge. An approval is asked and waited for.
//   - parallel_ > 1: each agent runs on a thread of its own in a pooled
//     worktree; a success joins the merge queue (plan_runner_merge.cc),
//     whose lanes gate merged trees on threads of their own, speculatively
//     on top of each other, and land in the checkout in order; an approval
//     is asked without waiting (plan_runner_approvals.cc). Settled tasks
//     give their slot back at once (TaskQueue::FreeSlot), so the next tasks
//     start while merged trees are gated; until merged they still count for
//     the overlap rule. The loop waits for agents, answers and lanes alike.
//
// plan.md is the persistent record, the queue the scheduler's view of it:
// before each FindWork the loop re-reads plan.md and hands the whole plan
// to TaskQueue::Update (SyncQueue), so a person's edit, or the planner's
// rewrite or split, reaches every task not running: new tasks join, changed
// dependencies, scopes and checkboxes take effect ([x] done; [!], [-] and
// [?] closed: their dependents wait; [ ] to do). A malformed plan.md stops
// the run from starting more tasks (exit code 2); running ones finish.
//
// Thread-safety: the calling thread owns the loop and the queue.
// Errors: a failure of git, the ledger or plan.md's checkboxes stops the
// run (stop_reason, exit code 4); running agents are stopped, never
// abandoned: every exit joins their threads.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "tandem/ledger/git_dirs.h"
#include "tandem/orchestrator/plan_runner_internal.h"
#include "tandem/workspace/worktree.h"

namespace tandem::orchestrator {

using memory::TaskState;
using protocol::NoticeLevel;
using protocol::TaskEnd;

// While a runner lives, it takes the kCancel ops of env.ops.
class CancelHandler {
 public:
  CancelHandler(LiveOps* ops, PlanRunner& runner) : ops_(ops) {
    if (ops_) {
      ops_->SetHandler(protocol::OpKind::kCancel,
                       [&runner](const Op& op) { return runner.CancelTask(op.task_id); });
    }
  }
  ~CancelHandler() {
    if (ops_) ops_->SetHandler(protocol::OpKind::kCancel, {});
  }

 private:
  LiveOps* ops_;
};

Result<PlanRunResult> RunPlan(const RunnerEnv& env) {
  PlanRunner runner(env);
  CancelHandler cancel(env.ops, runner);
  return runner.Start();
}

Result<PlanRunResult> ResumePlan(const RunnerEnv& env, const std::string& run_id) {
  PlanRunner runner(env);
  CancelHandler cancel(env.ops, runner);
  return runner.Resume(run_id);
}

// (parallel_tasks 0, auto, is sized from plan.md when the run starts:
// SizeParallelism.)
PlanRunner::PlanRunner(const RunnerEnv& env)
    : env_(env),
      root_(env.repo_root),
      plan_path_(root_ / memory::kPlanFileName),
      progress_path_(root_ / memory::kProgressFileName),
      parallel_(static_cast<size_t>(std::max<int64_t>(1, env.config.limits.parallel_tasks))) {}

Result<PlanRunResult> PlanRunner::Start() {
  memory::Plan plan = TRY(LoadCheckedPlan());
  for (const ledger::RunRow& run : TRY(env_.ledger->ActiveRuns())) {
    if (run.kind == "run" && !(run.owner == ledger::ProcessIdentity::Current())) {
      return FailedPrecondition(fmt::format(
          "run {} is going on in process {}; `tandem steer` talks to it", run.id, run.owner.pid));
    }
  }
  // A killed `tandem do` may have left a step half done.
  for (const std::string& line : TRY(agent::RecoverInterrupted(env_.repo_root, *env_.ledger))) {
    Notice(NoticeLevel::kWarn, line);
  }
  RemoveStaleTempFiles();
  RemoveLeftoverWorktrees();
  ws_ = TRY(workspace::Workspace::Open(root_));
  run_id_ = agent::NewRunId();
  workspace::CheckpointId base = TRY(ws_->StartRun(run_id_));
  ledger::RunStart start;
  start.id = run_id_;
  start.kind = "run";
  start.goal = plan.goal.empty() ? "plan.md" : plan.goal;
  start.repo = env_.repo_root;
  start.base_checkpoint = base.hex;
  RETURN_IF_ERROR(env_.ledger->BeginRun(start));
  RETURN_IF_ERROR(ResetUnfinished(plan, /*resumed=*/false));
  SizeParallelism(plan);
  Publish("", protocol::RunStarted{"run", start.goal, env_.repo_root, env_.executor.name,
                                   env_.gates_source, 0});
  return Loop();
}

Result<PlanRunResult> PlanRunner::Loop() {
  result_.run_id = run_id_;
  auto start = std::chrono::steady_clock::now();
  SteerInbox inbox(env_.ledger, run_id_, env_.events);
  {
    MutexLock lock(inbox_mu_);
    inbox_ = &inbox;
  }
  scheduler_ = std::this_thread::get_id();
  TaskQueueOptions options;
  options.parallel_tasks = static_cast<int>(parallel_);
  options.on_failure = [this](const std::string& id, int /*runs*/) { return OnFailure(id); };
  queue_.emplace(std::move(options));
  // Ctrl-C reaches every agent; an error of the run stops them without
  // counting as an interrupt.
  agent::InterruptHub::Handle forward = 0;
  if (env_.interrupts) forward = env_.interrupts->Subscribe([this] { agents_stop_.Interrupt(); });
  while (true) {
    FlushNotes();
    if (Interrupted()) result_.interrupted = true;
    // Settled successes go into merge lanes at once (plan_runner_merge.cc);
    // a requeued one is ready again for FillCapacity.
    Status pumped = PumpMerges();
    if (!pumped.ok()) {
      Stop(pumped.message(), protocol::kExitInternal);
      Status closed = CloseMerges();
      if (!closed.ok()) Notice(NoticeLevel::kWarn, closed.message());
    }
    if (Going()) {
      Status filled = FillCapacity();
      if (!filled.ok()) Stop(filled.message(), protocol::kExitInternal);
    }
    if (agents_.empty() && asking_.empty() && lanes_.empty()) {
      if (Going()) {
        auto plan = LoadCheckedPlan();
        if (plan) Finalize(*plan);
      }
      break;
    }
    // Agents, approvals and merge lanes report here. Settled tasks free
    // their slots at once: the next tasks start while lanes are gated.
    std::vector<Answer> answers;
    std::vector<LaneDone> gated;
    Status handled = SettleAll(WaitForAgents(answers, gated));
    for (const auto& [id, decision] : answers) {
      Status answered = OnAnswer(id, decision);
      if (handled.ok()) handled = answered;
    }
    Status landed = OnGated(std::move(gated));
    if (handled.ok()) handled = landed;
    if (!handled.ok()) Stop(handled.message(), protocol::kExitInternal);
  }
  FlushNotes();
  if (env_.interrupts) env_.interrupts->Unsubscribe(forward);
  RemovePool();
  {
    MutexLock lock(inbox_mu_);
    inbox_ = nullptr;
  }
  return End(start);
}

bool PlanRunner::Going() const {
  return !Interrupted() && !result_.interrupted && result_.stop_reason.empty();
}

// Stops starting tasks; running agents are stopped too (not an interrupt:
// they go back to pending).
void PlanRunner::Stop(const std::string& why, int exit_code) {
  if (result_.stop_reason.empty()) result_.stop_reason = why;
  Notice(NoticeLevel::kError, why);
  if (result_.exit_code == protocol::kExitSuccess) result_.exit_code = exit_code;
  agents_stop_.Interrupt();
}

// Starts ready tasks while the queue has capacity. A task FindWork hands
// out that does not start (cancelled, denied, waiting for a person) is
// closed at once (kStopped).
Status PlanRunner::FillCapacity() {
  while (queue_->CanRunMore() && Going()) {
    auto plan = LoadCheckedPlan();
    if (!plan) {
      Stop("plan.md is malformed; nothing more runs: " + plan.error().message(),
           protocol::kExitUsage);
      return Status::Ok();
    }
    RETURN_IF_ERROR(SyncQueue(*plan));
    std::optional<std::string> id = queue_->FindWork();
    if (!id) return Status::Ok();
    const PlanTask* found = plan->Find(*id);
    if (found == nullptr) return Internal("the task queue started " + *id + ", not in plan.md");
    const PlanTask task = *found;
    const Tier tier = TierOf(task);
    if (IsCancelled(task.id)) {
      RETURN_IF_ERROR(SkipCancelled(task, tier));
      RETURN_IF_ERROR(queue_->TaskFinished(task.id, TaskOutcome::kStopped));
      continue;
    }
    if (parallel_ > 1 && NeedsApproval(task.risk) && !approved_.count(task.id)) {
      RETURN_IF_ERROR(AskWithoutWaiting(task, tier));  // [?] until answered: not ready
      RETURN_IF_ERROR(queue_->TaskFinished(task.id, TaskOutcome::kStopped));
      continue;
    }
    std::optional<bool> approved = TRY(Approve(task, tier));
    if (!approved) {  // skipped or waiting: plan.md says so now
      RETURN_IF_ERROR(queue_->TaskFinished(task.id, TaskOutcome::kStopped));
      continue;
    }
    RETURN_IF_ERROR(StartAgent(*plan, task, tier, *approved));
  }
  return Status::Ok();
}

QueuedTask PlanRunner::Queued(const PlanTask& t) {
  QueuedTask q{t.id, t.after, t.scope, t.may_overlap_with};
  switch (t.state) {
    case TaskState::kPending:
      q.recorded = QueuedTaskState::kWaiting;
      break;
    case TaskState::kDone:
      q.recorded = QueuedTaskState::kDone;
      break;
    case TaskState::kRunning:  // not by this run: a person's edit
    case TaskState::kWaiting:
    case TaskState::kFailed:
    case TaskState::kSkipped:
      q.recorded = QueuedTaskState::kFailed;
      break;
  }
  return q;
}

// plan.md, as it is now, into the queue (TaskQueue::Update).
Status PlanRunner::SyncQueue(const memory::Plan& plan) {
  std::vector<QueuedTask> tasks;
  tasks.reserve(plan.tasks.size());
  for (const PlanTask& t : plan.tasks) tasks.push_back(Queued(t));
  return queue_->Update(tasks);
}

Tier PlanRunner::TierOf(const PlanTask& task) const {
  auto it = tier_of_.find(task.id);
  return it != tier_of_.end() ? it->second : RouteTask(task.risk);
}

// limits.parallel_tasks, or for 0 (auto) what AutoParallelTasks says for
// the tasks of `plan` not yet done.
void PlanRunner::SizeParallelism(const memory::Plan& plan) {
  if (env_.config.limits.parallel_tasks > 0) return;
  std::vector<QueuedTask> open;
  for (const PlanTask& t : plan.tasks) {
    if (t.state != TaskState::kDone && t.state != TaskState::kSkipped &&
        t.state != TaskState::kFailed) {
      open.push_back(Queued(t));
    }
  }
  parallel_ = static_cast<size_t>(AutoParallelTasks(open, std::thread::hardware_concurrency()));
}

// Starts `task`'s agent: in the checkout on this thread (parallel_ == 1; it
// has finished when this returns), else on a thread of its own in a pooled
// worktree (RunAgent). A task with `variants: N` runs its fan-out on a
// thread of its own (RunFanoutAgent: N variants in worktrees of their own;
// it takes one of the queue's slots) and is merged like a worktree's task,
// whatever parallel_ is. Either way its result is posted to done_.
Status PlanRunner::StartAgent(const memory::Plan& plan, const PlanTask& task, Tier tier,
                              bool approved) {
  auto a = std::make_unique<Agent>();
  a->fanout = task.variants > 1;
  a->in_checkout = parallel_ == 1 && !a->fanout;
  std::string where;
  // Worktrees (the agent's, or a merge lane's) live under the git directory.
  if (!a->in_checkout && git_dir_.empty()) git_dir_ = TRY(ledger::GitCommonDir(root_));
  if (a->fanout) {
    if (!fanout_ledger_) fanout_ledger_ = TRY(ledger::FanoutLedger::Open(*env_.ledger, WallClockMs));
    where = fmt::format("fanning out to {} variants", task.variants);
  } else if (!a->in_checkout) {
    std::tie(a->slot, a->reuse) = TakeSlot(&a->ws);
    where = "in worktree " + workspace::Worktree::PathFor(git_dir_, a->slot).string();
  }
  Prepared p = TRY(Prepare(plan, task, tier, approved, where));
  a->task = task;
  a->tier = tier;
  a->attempt = p.attempt;
  a->base = *ws_->last_checkpoint();
  a->spec = std::move(p.spec);
  a->env = std::move(p.env);
  a->stop = std::make_unique<agent::InterruptHub>(&agents_stop_);
  a->env.interrupts = a->stop.get();
  RegisterStop(task.id, a->stop.get());
  Agent* raw = a.get();
  agents_[task.id] = std::move(a);
  if (raw->in_checkout) {
    // A rerun (escalation) is reviewed on the task's whole change.
    raw->env.review_base = review_base_.try_emplace(task.id, raw->base.hex).first->second;
    Post(task.id, agent::ExecuteTask(raw->spec, raw->env, *ws_, nullptr));
    return Status::Ok();
  }
  raw->thread = std::jthread(
      [this, raw] { Post(raw->task.id, raw->fanout ? RunFanoutAgent(*raw) : RunAgent(*raw)); });
  return Status::Ok();
}

void PlanRunner::Post(const std::string& task_id, Result<agent::TaskResult> result) {
  MutexLock lock(done_mu_);
  done_.push_back({task_id, std::move(result)});
  done_cv_.notify_one();
}

// Every agent result posted so far; answers to approvals go to `answers`,
// merge lanes' verdicts to `gated` (at least one of the three, or a kCancel
// op: OnGated then drops cancelled tasks from the merge queue).
std::vector<PlanRunner::AgentDone> PlanRunner::WaitForAgents(std::vector<Answer>& answers,
                                                             std::vector<LaneDone>& gated) {
  MutexLock lock(done_mu_);
  while (done_.empty() && answers_.empty() && gated_.empty() && !cancel_posted_) {
    done_cv_.wait(done_mu_);
  }
  cancel_posted_ = false;
  std::vector<AgentDone> out;
  for (AgentDone& d : done_) out.push_back(std::move(d));
  done_.clear();
  answers.assign(answers_.begin(), answers_.end());
  answers_.clear();
  for (LaneDone& d : gated_) gated.push_back(std::move(d));
  gated_.clear();
  return out;
}

// Settles each result; the successes of worktrees join the merge queue
// (to_merge_).
Status PlanRunner::SettleAll(std::vector<AgentDone> results) {
  Status first_error;
  for (AgentDone& done : results) {
    Status settled = Settle(std::move(done));
    if (!settled.ok() && first_error.ok()) first_error = settled;
  }
  return first_error;
}

Status PlanRunner::Settle(AgentDone done) {
  std::unique_ptr<Agent> a = std::move(agents_[done.task_id]);
  agents_.erase(done.task_id);
  if (a->thread.joinable()) a->thread.join();
  RegisterStop(a->task.id, nullptr);
  if (!a->slot.empty()) GiveSlot(a->slot, std::move(a->ws));  // a fan-out task has none
  FlushNotes();
  const PlanTask& task = a->task;
  if (!done.result) {
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Upsert(task, TaskState::kPending, TierRole(a->tier), done.result.error().message());
    return done.result.error().WithContext("task " + task.id);
  }
  agent::TaskResult outcome = std::move(*done.result);
  AddTotals(outcome.totals);
  task_base_ = a->base.hex;
  if (outcome.outcome == agent::TaskOutcome::kInterrupted && !Interrupted() &&
      IsCancelled(task.id)) {
    // In the checkout its finished steps are undone; a worktree is just not merged.
    if (a->in_checkout) RETURN_IF_ERROR(UndoTaskSteps(task));
    RETURN_IF_ERROR(SkipCancelled(task, a->tier));
    return queue_->TaskFinished(task.id, TaskOutcome::kStopped);
  }
  if (outcome.outcome == agent::TaskOutcome::kInterrupted && !Interrupted()) {
    // Stopped by an error elsewhere in the run, not by a person.
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Upsert(task, TaskState::kPending, TierRole(a->tier), "stopped: " + result_.stop_reason);
    Publish(task.id, protocol::TaskFinished{TaskEnd::kInterrupted, "stopped with the run",
                                            outcome.totals.retries});
    return queue_->TaskFinished(task.id, TaskOutcome::kStopped);
  }
  if (outcome.outcome != agent::TaskOutcome::kSucceeded || a->in_checkout) {
    return Conclude(task, a->tier, std::move(outcome));
  }
  RETURN_IF_ERROR(queue_->FreeSlot(task.id));
  to_merge_.push_back({std::move(a), std::move(outcome)});
  return Status::Ok();
}

// A task's end, from its agent's result: done; failed (the queue's hook
// escalates); or stopped without a verdict (back to pending).
Status PlanRunner::Conclude(const PlanTask& task, Tier tier, agent::TaskResult outcome) {
  switch (outcome.outcome) {
    case agent::TaskOutcome::kSucceeded:
      return Done(task, tier, outcome);
    case agent::TaskOutcome::kFailed:
    case agent::TaskOutcome::kLimit:
      TRY(Finish(task, tier, TaskOutcome::kFailed, std::move(outcome)));
      return Status::Ok();
    case agent::TaskOutcome::kInterrupted:
    case agent::TaskOutcome::kProviderError:
    case agent::TaskOutcome::kError:
      break;
  }
  RETURN_IF_ERROR(RecordStopped(task, tier, outcome));
  return queue_->TaskFinished(task.id, TaskOutcome::kStopped);
}

void PlanRunner::Finalize(const memory::Plan& plan) {
  for (const PlanTask& t : plan.tasks) {
    if (t.state == TaskState::kPending) result_.blocked++;
  }
  UpdateNext(plan, {});
}

Result<PlanRunResult> PlanRunner::End(std::chrono::steady_clock::time_point start) {
  double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  protocol::Outcome outcome;
  ledger::RunOutcome ledger_outcome;
  if (result_.interrupted) {
    outcome = protocol::Outcome::kInterrupted;
    ledger_outcome = ledger::RunOutcome::kInterrupted;
    result_.exit_code = protocol::kExitInterrupted;
  } else if (!result_.stop_reason.empty()) {
    outcome = result_.exit_code == protocol::kExitProvider ? protocol::Outcome::kProviderError
                                                           : protocol::Outcome::kError;
    ledger_outcome = ledger::RunOutcome::kFailed;
    if (result_.exit_code == protocol::kExitSuccess) result_.exit_code = protocol::kExitUsage;
  } else if (result_.failed > 0 || result_.waiting > 0 || result_.blocked > 0) {
    outcome = protocol::Outcome::kFailed;
    ledger_outcome = ledger::RunOutcome::kFailed;
    result_.exit_code = protocol::kExitTaskFailed;
  } else {
    outcome = protocol::Outcome::kSucceeded;
    ledger_outcome = ledger::RunOutcome::kSucceeded;
    result_.exit_code = protocol::kExitSuccess;
  }
  // tandem's own last writes (checkboxes, progress.md) belong to the run:
  // without them in its last checkpoint, `tandem undo` would see plan.md
  // and progress.md as changed since the run ended and refuse.
  CheckpointMemory();
  ledger::RunEnd end;
  end.outcome = ledger_outcome;
  end.exit_code = result_.exit_code;
  if (auto last = ws_->last_checkpoint()) end.final_checkpoint = last->hex;
  // A step left 'running' stays so: `tandem resume` rolls it back.
  Status ended = leave_running_ ? Status::Ok() : env_.ledger->EndRun(run_id_, end);
  if (!ended.ok()) Notice(NoticeLevel::kWarn, "ledger: " + ended.message());
  std::string summary = fmt::format("{} done, {} failed, {} skipped, {} waiting for approval",
                                    result_.done, result_.failed, result_.skipped, result_.waiting);
  if (result_.blocked > 0) summary += fmt::format(", {} blocked", result_.blocked);
  if (!result_.stop_reason.empty()) summary += "; stopped: " + result_.stop_reason;
  agent::RunTotals totals;
  double human_ms = 0;
  {
    MutexLock lock(stats_mu_);
    totals = totals_;
    human_ms = human_ms_;
  }
  // A person's time at an approval prompt is theirs, not tandem's.
  double harness =
      std::max(0.0, wall_ms - totals.model_ms - totals.tool_ms - totals.gate_ms - human_ms);
  Publish("", protocol::RunFinished{outcome, summary, totals.steps, totals.retries, totals.usage,
                                    totals.cost_usd, wall_ms, totals.model_ms, totals.tool_ms,
                                    totals.gate_ms, harness, human_ms, ""});
  return result_;
}

}  // namespace tandem::orchestrator
