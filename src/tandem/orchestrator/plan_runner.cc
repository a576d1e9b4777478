#include "tandem/base/clock.h"
#include "tandem/orchestrator/plan_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "tandem/agent/task_runner.h"
#include "tandem/base/kill_point.h"
#include "tandem/base/mutex.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/memory/memory_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/orchestrator/command_review.h"
#include "tandem/orchestrator/plan_edit.h"
#include "tandem/orchestrator/steer.h"
#include "tandem/ledger/done_tasks.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/orchestrator/task_queue.h"
#include "tandem/orchestrator/task_review.h"
#include "tandem/platform/process.h"
#include "tandem/workspace/tracked_paths.h"
#include "tandem/workspace/tree_merge.h"
#include "tandem/workspace/workspace.h"
#include "tandem/workspace/worktree.h"

namespace tandem::orchestrator {
namespace {

namespace fs = std::filesystem;
using memory::PlanTask;
using memory::TaskState;
using protocol::NoticeLevel;
using protocol::TaskEnd;

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// The gates a task is accepted with: its named verify.md gates (with the
// gates they run after) or all of them, plus its checks as final gates.
// REQUIRES: CheckPlanGates passed (every named gate exists).
std::vector<verify::Gate> TaskGates(const std::vector<verify::Gate>& all, const PlanTask& task) {
  std::vector<verify::Gate> gates;
  if (!task.gates) {
    gates = all;
  } else {
    std::set<std::string> wanted(task.gates->begin(), task.gates->end());
    // A gate's `after` gates come along (they are defined earlier in the file).
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (wanted.count(it->name)) wanted.insert(it->after.begin(), it->after.end());
    }
    for (const verify::Gate& g : all) {
      if (wanted.count(g.name)) gates.push_back(g);
    }
  }
  int n = 0;
  for (const std::string& check : task.checks) {
    verify::Gate gate;
    gate.name = fmt::format("check-{}", ++n);
    gate.command = check;
    gate.when = verify::GateWhen::kFinal;
    gates.push_back(std::move(gate));
  }
  return gates;
}

class CancelHandler;

class PlanRunner {
 public:
  friend class CancelHandler;
  explicit PlanRunner(const RunnerEnv& env)
      : env_(env),
        root_(env.repo_root),
        plan_path_(root_ / memory::kPlanFileName),
        progress_path_(root_ / memory::kProgressFileName),
        parallel_(static_cast<size_t>(std::max<int64_t>(1, env.config.limits.parallel_tasks))) {}
  // (0, auto, is sized from plan.md when the run starts: SizeParallelism.)

  Result<PlanRunResult> Start() {
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

  Result<PlanRunResult> Resume(const std::string& wanted) {
    std::optional<ledger::RunRow> run;
    if (!wanted.empty()) {
      run = TRY(env_.ledger->GetRun(wanted));
      if (!run) return NotFound("no run " + wanted + " in the ledger");
    } else {
      run = TRY(env_.ledger->LastRun("run"));
      if (!run) return NotFound("no `tandem run` to resume in this repository");
    }
    if (run->outcome == ledger::RunOutcome::kSucceeded) {
      return NotFound(fmt::format(
          "run {} finished; nothing to resume (`tandem run` starts a new one)", run->id));
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
      Notice(NoticeLevel::kWarn, fmt::format("rolled back interrupted step {} (task {}) to checkpoint {}",
                                 step.n, step.task_id.empty() ? "-" : step.task_id, id.Short()));
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

 private:
  // A killed writer's temp files at the root (plan.md's, progress.md's), but
  // never a file the repository tracks under such a name: when the index
  // cannot be read, nothing is removed.
  void RemoveStaleTempFiles() {
    auto tracked = workspace::TrackedPaths(root_, ".");
    if (!tracked) return;
    platform::RemoveStaleTempFiles(root_, [&](const std::string& name) {
      return std::binary_search(tracked->begin(), tracked->end(), name);
    });
  }

  // plan.md, parsed, with every gate its tasks name defined in verify.md;
  // refused, like a progress.md tandem could not update, when either is a
  // link leading out of the repository (ReadMemoryFile), before anything runs.
  Result<memory::Plan> LoadCheckedPlan() {
    memory::Plan plan = TRY(memory::LoadPlan(plan_path_));
    if (auto progress = memory::ReadMemoryFile(progress_path_);
        !progress && progress.error().code() != StatusCode::kNotFound) {
      return progress.error();
    }
    Status gates = CheckPlanGates(plan, env_.gates);
    if (!gates.ok()) return gates.WithContext(plan_path_.string());
    return plan;
  }

  // ---- events, progress, ledger ----
  template <typename Payload>
  void Publish(const std::string& task_id, Payload payload) {
    env_.events->Publish({{run_id_, task_id, "orchestrator"}, WallClockMs(), std::move(payload)});
  }
  void Notice(NoticeLevel level, const std::string& text, const std::string& task = "") {
    Publish(task, protocol::Notice{level, text});
  }
  // progress.md is a log: a failure to write it is reported, not fatal.
  void Progress(const Status& status) {
    if (!status.ok()) Notice(NoticeLevel::kWarn, "progress.md: " + status.message());
  }

  void Upsert(const PlanTask& task, TaskState state, const std::string& tier,
              const std::string& detail) {
    ledger::TaskRow row;
    row.run_id = run_id_;
    row.task_id = task.id;
    row.title = task.title;
    row.risk = task.risk;
    row.tier = tier;
    row.state = state;
    row.attempts = attempts_[task.id];
    row.outcome_detail = detail;
    Status s = env_.ledger->UpsertTask(row);
    if (!s.ok()) Notice(NoticeLevel::kWarn, "ledger: " + s.message(), task.id);
  }

  // Sets a checkbox; a person's concurrent save is retried by SetTaskState.
  Status Mark(const std::string& id, TaskState state) {
    Status s;
    for (int i = 0; i < 5; ++i) {
      s = memory::SetTaskState(plan_path_, id, state);
      if (s.code() != StatusCode::kFailedPrecondition) return s;
    }
    return s;
  }

  // Records plan.md and progress.md in the run's checkpoints, so the next
  // step's diff holds only the executor's changes and a rollback or resume
  // restores them consistently with the tree.
  void CheckpointMemory() {
    auto c =
        ws_->Checkpoint(workspace::TouchedPaths::Only({std::string(memory::kPlanFileName),
                                                       std::string(memory::kProgressFileName)}),
                        "plan.md and progress.md");
    if (!c) Notice(NoticeLevel::kWarn, "checkpoint of plan.md/progress.md failed: " + c.error().message());
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
  struct InterruptedTask {
    std::string task_id;
    std::optional<workspace::CheckpointId> base, last;
    std::set<std::string> paths;
    size_t finished = 0;
  };

  Result<InterruptedTask> FindInterruptedTask() {
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
      if (t.task_id == task_id && (t.state == ledger::TaskState::kDone ||
                                   t.state == ledger::TaskState::kFailed ||
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
  Status RefuseEditedFiles(const InterruptedTask& task, const workspace::CheckpointId& found) {
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

  Status RestartInterruptedTask(const InterruptedTask& task) {
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
  Status ResetUnfinished(const memory::Plan& plan, bool resumed) {
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
  Status RunUnverifiedDoneTasks(const memory::Plan& plan) {
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

  // progress.md's "next": every running task, then the ready ones.
  void UpdateNext(const memory::Plan& plan, const std::vector<PlanTask>& running) {
    std::vector<std::string> next;
    std::set<std::string> ids;
    for (const PlanTask& t : running) {
      next.push_back(t.id + ": " + t.title + " (running)");
      ids.insert(t.id);
    }
    for (const PlanTask* t : memory::ReadyTasks(plan)) {
      if (!ids.count(t->id)) next.push_back(t->id + ": " + t->title);
    }
    Progress(memory::SetNext(progress_path_, next));
  }

  // ---- the loop ----
  Result<PlanRunResult> Loop() {
    if (parallel_ > 1) return ParallelLoop();
    result_.run_id = run_id_;
    auto start = std::chrono::steady_clock::now();
    SteerInbox inbox(env_.ledger, run_id_, env_.events);
    SetInbox(&inbox);
    while (true) {
      if (Interrupted()) {
        result_.interrupted = true;
        break;
      }
      auto plan = LoadCheckedPlan();
      if (!plan) {
        result_.stop_reason = plan.error().message();
        Notice(NoticeLevel::kError, "plan.md is malformed; nothing more runs: " + result_.stop_reason);
        break;
      }
      std::vector<const PlanTask*> ready = memory::ReadyTasks(*plan);
      if (ready.empty()) {
        Finalize(*plan);
        break;
      }
      PlanTask task = *ready.front();
      Status s = IsCancelled(task.id) ? SkipCancelled(task, RouteTask(task.risk)) : RunOne(*plan, task);
      if (!s.ok()) {
        result_.stop_reason = s.message();
        Notice(NoticeLevel::kError, s.message(), task.id);
        if (result_.exit_code == protocol::kExitSuccess) result_.exit_code = protocol::kExitInternal;
        break;
      }
      if (!result_.stop_reason.empty() || result_.interrupted) break;
    }
    SetInbox(nullptr);
    return End(start);
  }

  bool Interrupted() const { return env_.interrupts && env_.interrupts->interrupted(); }

  void Finalize(const memory::Plan& plan) {
    for (const PlanTask& t : plan.tasks) {
      if (t.state == TaskState::kPending) result_.blocked++;
    }
    UpdateNext(plan, {});
  }

  Result<PlanRunResult> End(std::chrono::steady_clock::time_point start) {
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
    std::string summary =
        fmt::format("{} done, {} failed, {} skipped, {} waiting for approval", result_.done,
                    result_.failed, result_.skipped, result_.waiting);
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

  void AddTotals(const agent::RunTotals& t) {
    MutexLock lock(stats_mu_);
    totals_.steps += t.steps;
    totals_.retries += t.retries;
    totals_.usage += t.usage;
    totals_.cost_usd += t.cost_usd + t.review_cost_usd;
    totals_.model_ms += t.model_ms;
    totals_.tool_ms += t.tool_ms;
    totals_.gate_ms += t.gate_ms;
  }

  const ModelSlot& Slot(Tier tier) const {
    return tier == Tier::kExecutor ? env_.executor : env_.slow;
  }
  std::string TierRole(Tier tier) const {
    return tier == Tier::kExecutor ? "executor"
                                   : std::string(config::RoleName(env_.policy.slow_role));
  }

  // One ready task, start to end (approval, execution, escalation).
  Status RunOne(const memory::Plan& plan, const PlanTask& task) {
    Tier tier = RouteTask(task.risk);
    std::optional<bool> approved = TRY(Approve(task, tier));
    if (!approved) return Status::Ok();
    agent::TaskResult outcome = TRY(Execute(plan, task, tier, *approved));
    if (outcome.outcome == agent::TaskOutcome::kInterrupted && !Interrupted() &&
        IsCancelled(task.id)) {
      RETURN_IF_ERROR(UndoTaskSteps(task));
      return SkipCancelled(task, tier);
    }
    return Conclude(task, tier, outcome);
  }

  // ---- cancelling one task (a kCancel op on env_.ops) ----
  //
  // CancelTask runs on the op's thread: it records the task as cancelled,
  // stops its agent if one runs (its own InterruptHub, a child of the run's)
  // and denies its open approval; the scheduler then skips the task: one not
  // yet started never starts, a running one leaves no change (in the
  // checkout its finished steps are undone; a worktree is just not merged).
  // Tasks that depend on it stay blocked, as after a denial.
  Status CancelTask(const std::string& task_id) {
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
      cancelled_.insert(task_id);
      auto running = task_stops_.find(task_id);
      if (running != task_stops_.end()) running->second->Interrupt();
    }
    for (const OpenApproval& open : env_.ops ? env_.ops->Pending() : std::vector<OpenApproval>{}) {
      if (open.request.task_id == task_id) {
        // Already answered or closed meanwhile: nothing left to deny.
        [[maybe_unused]] Status denied = env_.ops->Answer(open.id, {false, "cancelled by a person"});
      }
    }
    return Status::Ok();
  }

  bool IsCancelled(const std::string& task_id) {
    MutexLock lock(cancel_mu_);
    return cancelled_.count(task_id) > 0;
  }

  // While `stop` is registered, a cancel of `task_id` interrupts it.
  void RegisterStop(const std::string& task_id, agent::InterruptHub* stop) {
    MutexLock lock(cancel_mu_);
    if (stop) {
      task_stops_[task_id] = stop;
      if (cancelled_.count(task_id)) stop->Interrupt();
    } else {
      task_stops_.erase(task_id);
    }
  }

  Status SkipCancelled(const PlanTask& task, Tier tier) {
    return Skip(task, tier, "cancelled by a person");
  }

  // The task does not run (denied, cancelled): [-], ledger, progress.md, event.
  Status Skip(const PlanTask& task, Tier tier, const std::string& why) {
    RETURN_IF_ERROR(Mark(task.id, TaskState::kSkipped));
    Upsert(task, TaskState::kSkipped, TierRole(tier), why);
    Progress(memory::RecordOutcome(progress_path_,
                                   {task.id, task.title, TaskState::kSkipped, 0, why}));
    result_.skipped++;
    Publish(task.id, protocol::TaskFinished{TaskEnd::kSkipped, why, 0});
    return Status::Ok();
  }

  // Undoes in the checkout what the task's finished steps changed since it
  // started (task_base_); plan.md and progress.md keep their current text.
  Status UndoTaskSteps(const PlanTask& task) {
    if (task_base_.empty() || !ws_->last_checkpoint()) return Status::Ok();
    workspace::CheckpointId base = TRY(workspace::CheckpointId::Parse(task_base_));
    std::vector<std::string> paths;
    for (const workspace::FileChange& c : TRY(ws_->Diff(base, *ws_->last_checkpoint()))) {
      if (c.path == memory::kPlanFileName || c.path == memory::kProgressFileName) continue;
      paths.push_back(c.path);
    }
    if (paths.empty()) return Status::Ok();
    TRY(ws_->Restore(base, workspace::TouchedPaths::Only(paths)));
    Notice(NoticeLevel::kInfo,
           fmt::format("task {} was cancelled: undid its changes to {} file(s)", task.id,
                       paths.size()),
           task.id);
    return Status::Ok();
  }

  // The approval of an irreversible task, before it starts: nullopt when it
  // does not run (denied: skipped; nobody answered: waiting), else whether
  // it was approved (false: it needs no approval).
  Result<std::optional<bool>> Approve(const PlanTask& task, Tier tier) {
    if (!NeedsApproval(task.risk)) return std::optional<bool>(false);
    if (approved_.count(task.id)) return std::optional<bool>(true);  // rerun after a merge
    ApprovalRequest request = TRY(RequestApproval(task, tier));
    return Answered(task, tier, request, DecideApproval(request));
  }

  // Decide() on the run's LiveOps; approval_requested is published as the
  // request opens, with its id (several may be open at once).
  ApprovalDecision DecideApproval(const ApprovalRequest& request) {
    return Decide(
        env_.config.approval.policy, env_.ops, request,
        [&](int64_t id) {
          Publish(request.task_id,
                  protocol::ApprovalRequested{id, request.what, request.why, request.command});
        },
        WallClockMs);
  }

  // The task waits for approval ([?], ledger, progress.md, the event).
  Result<ApprovalRequest> RequestApproval(const PlanTask& task, Tier tier) {
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
  Result<std::optional<bool>> Answered(const PlanTask& task, Tier tier,
                                       const ApprovalRequest& request, const ApprovalDecision& d) {
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
    Publish(task.id,
            protocol::ApprovalDecided{d.approval_id, record.decision, record.decided_by,
                                      d.waited_ms, d.reason, ""});
    if (!approved) {
      RETURN_IF_ERROR(Skip(task, tier, "denied: " + d.reason));
      return std::optional<bool>();
    }
    approved_.insert(task.id);
    Progress(memory::AppendNote(
        progress_path_, task.id, memory::NoteKind::kDecision,
        fmt::format("approved by {} after {} ms: {}", d.by_person ? "a person" : "policy",
                    d.waited_ms, d.reason)));
    return std::optional<bool>(true);
  }

  // A task's agent, before it starts: the checkbox, ledger row and
  // progress.md say it runs, and its spec and environment are built for the
  // checkout (the parallel path moves them to a worktree).
  struct Prepared {
    agent::TaskSpec spec;
    agent::TaskEnv env;
    int attempt = 0;
  };

  // `where`: the ledger row's detail while it runs (its worktree), before
  // task_started is published.
  Result<Prepared> Prepare(const memory::Plan& plan, const PlanTask& task, Tier tier,
                           bool allow_irreversible_commands, const std::string& where = "") {
    Prepared p;
    p.attempt = ++attempts_[task.id];
    RETURN_IF_ERROR(Mark(task.id, TaskState::kRunning));
    Upsert(task, TaskState::kRunning, TierRole(tier), where);
    std::vector<PlanTask> running = RunningTasks();
    running.push_back(task);
    UpdateNext(plan, running);

    agent::TaskSpec& spec = p.spec;
    spec.run_id = run_id_;
    spec.task_id = task.id;
    spec.kind = "run";
    spec.task = task.id + ": " + task.title + "\n\n" + task.what;
    if (!task.checks.empty()) {
      spec.task += "\n\nAcceptance checks (must exit 0):";
      for (const std::string& c : task.checks) spec.task += "\n- `" + c + "`";
    }
    spec.scope = task.scope;
    auto progress = memory::ReadMemoryFile(progress_path_);
    if (progress) {
      std::string part =
          memory::ExtractForTask(*progress, task.id, env_.policy.progress_budget, task.after);
      if (!part.empty()) spec.extra_context = "From progress.md:\n" + part;
    }
    std::string notes = TakeSteerForTask(task.id);
    if (!notes.empty()) {
      spec.extra_context += "\nA person steering this run added notes:\n" + notes;
    }
    auto feedback = merge_feedback_.find(task.id);
    if (feedback != merge_feedback_.end()) {
      spec.extra_context +=
          "\nYour previous attempt passed its gates in its own worktree but could not be "
          "merged into the integrated tree, which other tasks changed meanwhile; you start "
          "again from the current integrated files:\n" +
          feedback->second;
      merge_feedback_.erase(feedback);
    }
    Progress(memory::RecordOutcome(
        progress_path_, {task.id, task.title, TaskState::kRunning, 0,
                         fmt::format("attempt {} on the {} tier", p.attempt, TierRole(tier))}));
    CheckpointMemory();

    const ModelSlot& slot = Slot(tier);
    agent::TaskEnv& env = p.env;
    env.repo_root = env_.repo_root;
    env.config = env_.config;
    if (allow_irreversible_commands)
      env.config.guardrails.command_policy = config::CommandPolicy::kAllowAll;
    env.model_name = slot.name;
    env.model = slot.model;
    env.provider = slot.provider;
    env.client = slot.client;
    env.events = env_.events;
    env.ledger = env_.ledger;
    env.gates = TaskGates(env_.gates, task);
    env.gates_source = env_.gates_source;
    env.interrupts = env_.interrupts;
    env.job_budget = env_.job_budget;
    env.role = TierRole(tier);
    std::string task_id = task.id;
    env.steer_notes = [this, task_id](std::optional<ledger::StepId> step) {
      return TakeSteerForStep(task_id, step);
    };
    env.tandem_files = {std::string(memory::kPlanFileName), std::string(memory::kProgressFileName)};
    env.review = ReviewSetupForTask(env_.config, env_.repo_root, task.id, task.review,
                                    task.risk == protocol::Risk::kIrreversible,
                                    {env_.reviewer, env_.events, env_.ledger, env_.interrupts});
    workspace::Workspace* ws = ws_.get();
    env.irreversible_commands = [this, task, ws](const std::string& command,
                                                 const std::string& why) {
      return DecideCommand(task, command, why, *ws);
    };
    Publish(task.id, protocol::TaskStarted{task.title, TierRole(tier), slot.name, p.attempt});
    return p;
  }

  // Runs `task` on `tier` once in the checkout, around ExecuteTask.
  Result<agent::TaskResult> Execute(const memory::Plan& plan, const PlanTask& task, Tier tier,
                                    bool allow_irreversible_commands) {
    Prepared p = TRY(Prepare(plan, task, tier, allow_irreversible_commands));
    task_base_ = ws_->last_checkpoint() ? ws_->last_checkpoint()->hex : "";
    // A rerun (escalation) is reviewed on the task's whole change.
    p.env.review_base = review_base_.try_emplace(task.id, task_base_).first->second;
    agent::InterruptHub stop(env_.interrupts);
    p.env.interrupts = &stop;
    RegisterStop(task.id, &stop);
    Result<agent::TaskResult> ran = agent::ExecuteTask(p.spec, p.env, *ws_, nullptr);
    RegisterStop(task.id, nullptr);
    agent::TaskResult result = TRY(std::move(ran));
    AddTotals(result.totals);
    return result;
  }

  // ---- parallel tasks (limits.parallel_tasks > 1) ----
  //
  // This thread (the scheduler) alone writes plan.md, progress.md, the
  // checkout and the run's checkpoints; each started task runs
  // agent::ExecuteTask on a thread of its own, in a pooled worktree reset to
  // the integrated checkpoint, with a Workspace of its own on run id
  // <run>.<task>.<attempt> (so checkpoint refs never collide), and posts its
  // result to `done_`. A success is merged into the checkout and re-gated
  // there (Merge); a conflict requeues the task with the conflict as
  // feedback.

  struct Agent {
    PlanTask task;
    Tier tier = Tier::kExecutor;
    int attempt = 0;
    std::string slot;            // worktree id, <run>-slot-K
    bool reuse = false;          // the slot's worktree exists: Reset, not Create
    workspace::CheckpointId base;  // the integrated checkpoint it started from
    agent::TaskSpec spec;
    agent::TaskEnv env;
    std::unique_ptr<agent::InterruptHub> stop;  // a child of agents_stop_: a cancel stops it alone
    std::jthread thread;  // declared last: joined before `stop` goes
  };
  struct AgentDone {
    std::string task_id;
    Result<agent::TaskResult> result;
  };

  std::vector<PlanTask> RunningTasks() const {
    std::vector<PlanTask> out;
    for (const auto& [id, a] : agents_) out.push_back(a->task);
    return out;
  }

  // The first ready task whose scope overlaps no running or merging
  // task's (the TaskQueue rule: an empty scope overlaps everything), or
  // nullptr.
  const PlanTask* PickReady(const memory::Plan& plan) const {
    for (const PlanTask* t : memory::ReadyTasks(plan)) {
      bool fits = true;
      for (const auto& [id, a] : agents_) {
        if (Overlap(*t, a->task)) fits = false;
      }
      for (const PlanTask& m : merging_) {
        if (Overlap(*t, m)) fits = false;
      }
      if (fits) return t;
    }
    return nullptr;
  }

  // The TaskQueue rule: overlapping scopes, unless either task lists the
  // other under `overlaps:`.
  static bool Overlap(const PlanTask& a, const PlanTask& b) {
    return !TaskQueue::MayRunTogether(Queued(a), Queued(b));
  }
  static QueuedTask Queued(const PlanTask& t) { return {t.id, t.after, t.scope, t.may_overlap_with}; }

  // limits.parallel_tasks, or for 0 (auto) what AutoParallelTasks says for
  // the tasks of `plan` not yet done.
  void SizeParallelism(const memory::Plan& plan) {
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

  Result<PlanRunResult> ParallelLoop() {
    result_.run_id = run_id_;
    auto start = std::chrono::steady_clock::now();
    SteerInbox inbox(env_.ledger, run_id_, env_.events);
    SetInbox(&inbox);
    scheduler_ = std::this_thread::get_id();
    // Ctrl-C reaches every agent; an error of the run stops them without
    // counting as an interrupt.
    agent::InterruptHub::Handle forward = 0;
    if (env_.interrupts) forward = env_.interrupts->Subscribe([this] { agents_stop_.Interrupt(); });
    while (true) {
      FlushNotes();
      if (Interrupted()) result_.interrupted = true;
      if (!result_.interrupted && result_.stop_reason.empty()) {
        Status filled = FillCapacity();
        if (!filled.ok()) Stop(filled);
      }
      if (agents_.empty() && asking_.empty()) {
        if (!result_.interrupted && result_.stop_reason.empty()) {
          auto plan = LoadCheckedPlan();
          if (plan) Finalize(*plan);
        }
        break;
      }
      // Settled tasks free their slots: the next tasks start before the
      // merges (whose gates take a while), from the tree before them.
      std::vector<Finished> to_merge;
      std::vector<std::pair<std::string, ApprovalDecision>> answers;
      Status handled = SettleAll(WaitForAgents(answers), to_merge);
      for (const auto& [id, decision] : answers) {
        Status answered = OnAnswer(id, decision);
        if (handled.ok()) handled = answered;
      }
      if (handled.ok() && !Interrupted() && result_.stop_reason.empty()) {
        for (const Finished& f : to_merge) merging_.push_back(f.agent->task);
        handled = FillCapacity();
        merging_.clear();
      }
      Status merged = MergeAll(std::move(to_merge));
      if (handled.ok()) handled = merged;
      if (!handled.ok()) Stop(handled);
    }
    FlushNotes();
    if (env_.interrupts) env_.interrupts->Unsubscribe(forward);
    RemovePool();
    SetInbox(nullptr);
    return End(start);
  }

  // Stops starting tasks after an error; running agents are stopped too.
  void Stop(const Status& why) {
    result_.stop_reason = why.message();
    Notice(NoticeLevel::kError, why.message());
    if (result_.exit_code == protocol::kExitSuccess) result_.exit_code = protocol::kExitInternal;
    agents_stop_.Interrupt();
  }

  // Starts ready tasks until `parallel_` run or none fits.
  Status FillCapacity() {
    while (agents_.size() < parallel_) {
      auto plan = LoadCheckedPlan();
      if (!plan) {
        return Status(plan.error().code(),
                      "plan.md is malformed; nothing more runs: " + plan.error().message());
      }
      const PlanTask* ready = PickReady(*plan);
      if (!ready) return Status::Ok();
      PlanTask task = *ready;
      auto tier_it = tier_of_.find(task.id);
      Tier tier = tier_it != tier_of_.end() ? tier_it->second : RouteTask(task.risk);
      if (IsCancelled(task.id)) {
        RETURN_IF_ERROR(SkipCancelled(task, tier));
        continue;
      }
      if (NeedsApproval(task.risk) && !approved_.count(task.id)) {
        RETURN_IF_ERROR(AskWithoutWaiting(task, tier));  // [?] now: not ready
        continue;
      }
      std::optional<bool> approved = TRY(Approve(task, tier));
      if (!approved) continue;  // skipped or waiting: plan.md says so now
      RETURN_IF_ERROR(StartAgent(*plan, task, tier, *approved));
    }
    return Status::Ok();
  }

  Status StartAgent(const memory::Plan& plan, const PlanTask& task, Tier tier, bool approved) {
    auto a = std::make_unique<Agent>();
    if (free_slots_.empty()) {
      a->slot = fmt::format("{}-slot-{}", run_id_, ++slots_made_);
    } else {
      a->slot = free_slots_.back();
      a->reuse = made_slots_.count(a->slot) > 0;
      free_slots_.pop_back();
    }
    if (git_dir_.empty()) git_dir_ = TRY(ledger::GitCommonDir(root_));
    Prepared p = TRY(Prepare(
        plan, task, tier, approved,
        "in worktree " + workspace::Worktree::PathFor(git_dir_, a->slot).string()));
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
    raw->thread = std::jthread([this, raw] {
      Result<agent::TaskResult> result = RunAgent(*raw);
      MutexLock lock(done_mu_);
      done_.push_back({raw->task.id, std::move(result)});
      done_cv_.notify_one();
    });
    return Status::Ok();
  }

  // A task's approval, asked on a thread of its own: the loop goes on with
  // other tasks; the answer comes back through the results queue.
  Status AskWithoutWaiting(const PlanTask& task, Tier tier) {
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
  Status OnAnswer(const std::string& task_id, const ApprovalDecision& d) {
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

  // On the agent's thread: its worktree at the integrated checkpoint, its
  // own Workspace, then the task.
  Result<agent::TaskResult> RunAgent(Agent& a) {
    fs::path tree;
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

  // Every result posted so far (at least one).
  // Answers to approvals go to `answers`.
  std::vector<AgentDone> WaitForAgents(
      std::vector<std::pair<std::string, ApprovalDecision>>& answers) {
    MutexLock lock(done_mu_);
    while (done_.empty() && answers_.empty()) done_cv_.wait(done_mu_);
    std::vector<AgentDone> out;
    for (AgentDone& d : done_) out.push_back(std::move(d));
    done_.clear();
    answers.assign(answers_.begin(), answers_.end());
    answers_.clear();
    return out;
  }

  // A task that passed its gates in its worktree, to merge.
  struct Finished {
    std::unique_ptr<Agent> agent;
    agent::TaskResult outcome;
  };

  // Settles each result; the successes go to `to_merge` (for MergeAll).
  Status SettleAll(std::vector<AgentDone> results, std::vector<Finished>& to_merge) {
    Status first_error;
    for (AgentDone& done : results) {
      Status settled = Settle(std::move(done), to_merge);
      if (!settled.ok() && first_error.ok()) first_error = settled;
    }
    return first_error;
  }

  Status Settle(AgentDone done, std::vector<Finished>& to_merge) {
    std::unique_ptr<Agent> a = std::move(agents_[done.task_id]);
    agents_.erase(done.task_id);
    a->thread.join();
    RegisterStop(a->task.id, nullptr);
    made_slots_.insert(a->slot);
    free_slots_.push_back(a->slot);
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
      return SkipCancelled(task, a->tier);  // its worktree is not merged: nothing to undo
    }
    if (outcome.outcome == agent::TaskOutcome::kInterrupted && !Interrupted()) {
      // Stopped by an error elsewhere in the run, not by a person.
      RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
      Upsert(task, TaskState::kPending, TierRole(a->tier), "stopped: " + result_.stop_reason);
      Publish(task.id, protocol::TaskFinished{TaskEnd::kInterrupted, "stopped with the run",
                                              outcome.totals.retries});
      return Status::Ok();
    }
    if (outcome.outcome != agent::TaskOutcome::kSucceeded) {
      return Conclude(task, a->tier, std::move(outcome));
    }
    to_merge.push_back({std::move(a), std::move(outcome)});
    return Status::Ok();
  }

  // Merges tasks that finished together. Several with the same gates are
  // merged as one batch whose gates run once on the merged tree (the gates
  // of a parallel run would otherwise run one merge after another on this
  // thread); a conflict requeues just that task; when the batch's gates
  // fail, its tasks are merged one by one, so the one that breaks the tree
  // is the one that runs again.
  Status MergeAll(std::vector<Finished> finished) {
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

  static bool SameGates(const std::vector<Finished>& finished) {
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
  Result<std::vector<Finished>> MergeBatch(std::vector<Finished> finished) {
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
        RETURN_IF_ERROR(Requeue(f.agent->task, f.agent->tier, ConflictText(merge),
                                std::move(f.outcome)));
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
    Notice(NoticeLevel::kInfo, fmt::format("merged tasks {} ({} file(s)) into the checkout; their gates run "
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

  static std::string ConflictText(const workspace::TreeMerge& merge) {
    return fmt::format(
        "its result conflicts with the integrated tree (changed by tasks merged since it "
        "started) in {}",
        fmt::join(merge.conflicts, ", "));
  }

  // Merges a task that passed in its worktree into the checkout, as a step
  // of its own: checkpoint before (the integrated tree), the merged files
  // restored, the task's gates on the merged tree, checkpoint after. Returns
  // "" when merged and gated, else why not (the checkout is back as it was).
  Result<std::string> Merge(const Agent& a, const agent::TaskResult& outcome) {
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

  // A merge conflict, or gates failing only on the merged tree: the task
  // runs again from the integrated tree with `why` as feedback, at most
  // kMaxConflictRequeues times; then it counts as a failure (escalation).
  Status Requeue(const PlanTask& task, Tier tier, const std::string& why,
                 agent::TaskResult outcome) {
    int n = ++conflicts_[task.id];
    if (n > TaskQueueOptions{}.max_conflict_requeues) {
      outcome.outcome = agent::TaskOutcome::kFailed;
      outcome.summary = "could not be merged: " + why;
      return Escalate(task, tier, std::move(outcome));
    }
    Notice(NoticeLevel::kWarn, fmt::format("task {} runs again on the integrated tree: {}", task.id,
                               FirstLine(why)),
           task.id);
    Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kFailure,
                                "not merged: " + FirstLine(why)));
    merge_feedback_[task.id] = why;
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Upsert(task, TaskState::kPending, TierRole(tier), "requeued: " + FirstLine(why));
    return Status::Ok();
  }

  // Removes this run's worktree pool.
  void RemovePool() {
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
  void RemoveLeftoverWorktrees() {
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

  // ---- state shared with agent threads ----
  void SetInbox(SteerInbox* inbox) {
    MutexLock lock(inbox_mu_);
    inbox_ = inbox;
  }
  std::string TakeSteerForTask(const std::string& task_id) {
    MutexLock lock(inbox_mu_);
    return inbox_->TakeForTask(task_id);
  }
  std::string TakeSteerForStep(const std::string& task_id, std::optional<ledger::StepId> step) {
    MutexLock lock(inbox_mu_);
    return inbox_->TakeForStep(task_id, step);
  }
  void AddSpend(const protocol::Usage& usage, double cost_usd, double model_ms) {
    MutexLock lock(stats_mu_);
    totals_.usage += usage;
    totals_.cost_usd += cost_usd;
    totals_.model_ms += model_ms;
  }
  void AddHumanMs(double ms) {
    MutexLock lock(stats_mu_);
    human_ms_ += ms;
  }
  // A note for progress.md: written now on the scheduler's thread, else
  // queued for it (progress.md has one writer).
  void Note(const std::string& task_id, memory::NoteKind kind, const std::string& text) {
    if (std::this_thread::get_id() == scheduler_ || scheduler_ == std::thread::id()) {
      Progress(memory::AppendNote(progress_path_, task_id, kind, text));
      return;
    }
    MutexLock lock(notes_mu_);
    notes_.push_back({task_id, kind, text});
  }
  void FlushNotes() {
    std::vector<QueuedNote> notes;
    {
      MutexLock lock(notes_mu_);
      notes.swap(notes_);
    }
    for (const QueuedNote& n : notes) {
      Progress(memory::AppendNote(progress_path_, n.task_id, n.kind, n.text));
    }
  }


  // The step of `task_id` that is running now (it asked for a command).
  std::optional<ledger::StepId> RunningStep(const std::string& task_id) {
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
  tools::CommandDecision DecideCommand(const PlanTask& task, const std::string& command,
                                       const std::string& why, workspace::Workspace& ws) {
    std::optional<ledger::StepId> step = RunningStep(task.id);
    Notice(NoticeLevel::kInfo,
           fmt::format("`{}` is irreversible ({}): the {} tier reviews it", command, why,
                       TierRole(Tier::kSlow)),
           task.id);
    ReviewerEnv reviewer{env_.slow, TierRole(Tier::kSlow), env_.events, env_.ledger, step,
                         env_.interrupts};
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
      decision.reason = fmt::format("the {} tier refused it: {}", TierRole(Tier::kSlow),
                                    review.reason);
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
      record.decision = decision.run ? ledger::ApprovalDecision::kApproved
                                     : ledger::ApprovalDecision::kDenied;
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

  Status Conclude(const PlanTask& task, Tier tier, agent::TaskResult outcome) {
    switch (outcome.outcome) {
      case agent::TaskOutcome::kSucceeded:
        return Done(task, tier, outcome);
      case agent::TaskOutcome::kFailed:
      case agent::TaskOutcome::kLimit:
        return Escalate(task, tier, std::move(outcome));
      case agent::TaskOutcome::kInterrupted:
        result_.interrupted = true;
        RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
        Upsert(task, TaskState::kPending, TierRole(tier), "interrupted");
        Publish(task.id,
                protocol::TaskFinished{TaskEnd::kInterrupted, outcome.summary, outcome.totals.retries});
        return Status::Ok();
      case agent::TaskOutcome::kProviderError:
      case agent::TaskOutcome::kError:
        leave_running_ = outcome.step_left_running;
        result_.stop_reason = outcome.summary;
        result_.exit_code = protocol::ExitCodeFor(outcome.outcome);
        RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
        Upsert(task, TaskState::kPending, TierRole(tier), outcome.summary);
        Publish(task.id,
                protocol::TaskFinished{TaskEnd::kInterrupted, outcome.summary, outcome.totals.retries});
        return Status::Ok();
    }
    return Status::Ok();
  }

  Status Done(const PlanTask& task, Tier tier, const agent::TaskResult& outcome) {
    // The ledger first: a kill between the two leaves [~] + done, which a
    // resume reads as done.
    Upsert(task, TaskState::kDone, TierRole(tier), FirstLine(outcome.summary));
    RETURN_IF_ERROR(Mark(task.id, TaskState::kDone));
    Progress(memory::RecordOutcome(progress_path_, {task.id, task.title, TaskState::kDone,
                                                    outcome.totals.retries, outcome.summary}));
    result_.done++;
    Publish(task.id, protocol::TaskFinished{TaskEnd::kDone, outcome.summary, outcome.totals.retries});
    return Status::Ok();
  }

  Status Fail(const PlanTask& task, Tier tier, const std::string& why, int retries) {
    Upsert(task, TaskState::kFailed, TierRole(tier), FirstLine(why));
    RETURN_IF_ERROR(Mark(task.id, TaskState::kFailed));
    Progress(memory::RecordOutcome(progress_path_,
                                   {task.id, task.title, TaskState::kFailed, retries, why}));
    result_.failed++;
    Publish(task.id, protocol::TaskFinished{TaskEnd::kFailed, why, retries});
    return Status::Ok();
  }

  std::string BestAttemptDiff(const agent::TaskResult& outcome) {
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
  Status Escalate(const PlanTask& failed_task, Tier tier, agent::TaskResult outcome) {
    PlanTask task = failed_task;
    Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kFailure,
                                fmt::format("attempt {} on the {} tier: {}", attempts_[task.id],
                                            TierRole(tier), outcome.summary)));
    while (true) {
      int& count = escalations_[task.id];
      if (Interrupted()) {
        agent::TaskResult stopped;
        stopped.outcome = agent::TaskOutcome::kInterrupted;
        return Conclude(task, tier, stopped);
      }
      if (count >= env_.policy.max_escalations || !env_.planner.client) {
        return Fail(task, tier, fmt::format("{} (after {} escalations)", outcome.summary, count),
                    outcome.totals.retries);
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
        return Fail(task, tier, outcome.summary + "; re-plan failed: " + replan.error().message(),
                    outcome.totals.retries);
      }
      count++;
      std::string to_tier =
          replan->action == EscalationAction::kSlowTier ? TierRole(Tier::kSlow) : "planner";
      ledger::EscalationRecord record{
          run_id_, task.id, TierRole(tier), to_tier, replan->action, replan->reason};
      RETURN_IF_ERROR(env_.ledger->RecordEscalation(record));
      Publish(task.id, protocol::Escalated{replan->action, TierRole(tier), to_tier, replan->reason});

      if (replan->action == EscalationAction::kSlowTier) {
        Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kDecision,
                                    "escalated to the slow tier: " + replan->reason));
        if (parallel_ > 1) {  // the loop starts it again, in a worktree, on the slow tier
          tier_of_[task.id] = Tier::kSlow;
          RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
          Upsert(task, TaskState::kPending, TierRole(Tier::kSlow), "escalated to the slow tier");
          return Status::Ok();
        }
        auto plan = TRY(memory::LoadPlan(plan_path_));
        tier = Tier::kSlow;
        outcome = TRY(Execute(plan, task, tier, false));
        if (outcome.outcome != agent::TaskOutcome::kFailed &&
            outcome.outcome != agent::TaskOutcome::kLimit) {
          return Conclude(task, tier, std::move(outcome));
        }
        Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kFailure,
                                    fmt::format("attempt {} on the {} tier: {}", attempts_[task.id],
                                                TierRole(tier), outcome.summary)));
        continue;
      }

      std::vector<std::string> new_ids;
      for (const PlanTask& t : replan->tasks) new_ids.push_back(t.id);
      Status edited = EditPlan([&](const std::string& text) -> Result<std::string> {
        std::string updated =
            TRY(replan->action == EscalationAction::kRewrite
                    ? RewriteTaskInText(text, task.id, replan->tasks[0])
                    : SplitTaskInText(text, task.id, replan->tasks));
        memory::Plan parsed = TRY(memory::ParsePlan(updated));
        RETURN_IF_ERROR(CheckPlanGates(parsed, env_.gates));
        return updated;
      });
      if (!edited.ok()) {
        Notice(NoticeLevel::kWarn, "the planner's re-plan cannot be applied: " + edited.message(), task.id);
        continue;  // counts as an escalation; ask again within budget
      }
      KillPoint("plan_edit_written");  // crash tests: plan.md merged, nothing else recorded
      if (replan->action == EscalationAction::kRewrite) {
        Upsert(task, TaskState::kPending, TierRole(tier), "rewritten by the planner");
        Progress(memory::AppendNote(progress_path_, task.id, memory::NoteKind::kDecision,
                                    "rewritten by the planner: " + replan->reason));
        return Status::Ok();  // the loop picks it up again
      }
      std::string why = fmt::format("split into {}: {}", fmt::join(new_ids, ", "), replan->reason);
      for (const std::string& id : new_ids) escalations_[id] = count;
      Upsert(task, TaskState::kSkipped, TierRole(tier), why);
      Progress(memory::RecordOutcome(
          progress_path_, {task.id, task.title, TaskState::kSkipped, outcome.totals.retries, why}));
      result_.skipped++;
      Publish(task.id, protocol::TaskFinished{TaskEnd::kSkipped, why, outcome.totals.retries});
      return Status::Ok();
    }
  }

  // Applies `edit` to plan.md atomically; a person's save in between is
  // re-read and the edit redone.
  Status EditPlan(const std::function<Result<std::string>(const std::string&)>& edit) {
    auto lock = TRY(platform::DirectoryLock::Acquire(root_));
    Status written;
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::string text = TRY(memory::ReadMemoryFile(plan_path_));
      std::string updated = TRY(edit(text));
      written =
          platform::WriteFileAtomically(plan_path_, updated, platform::WriteOptions::IfUnchanged(text));
      if (written.code() != StatusCode::kFailedPrecondition) return written;
    }
    return written;
  }

  const RunnerEnv& env_;
  fs::path root_;
  fs::path plan_path_;
  fs::path progress_path_;
  size_t parallel_;  // limits.parallel_tasks (auto: SizeParallelism)
  std::unique_ptr<workspace::Workspace> ws_;
  std::string run_id_;
  std::string task_base_;  // checkpoint a task started from (for its best-attempt diff)
  Mutex cancel_mu_;
  std::set<std::string> cancelled_ GUARDED_BY(cancel_mu_);  // kCancel ops' tasks
  std::map<std::string, agent::InterruptHub*> task_stops_ GUARDED_BY(cancel_mu_);
  std::map<std::string, int> escalations_;
  std::map<std::string, int> attempts_;
  Mutex inbox_mu_;
  SteerInbox* inbox_ GUARDED_BY(inbox_mu_) = nullptr;
  Mutex stats_mu_;
  agent::RunTotals totals_ GUARDED_BY(stats_mu_);
  double human_ms_ GUARDED_BY(stats_mu_) = 0;  // waiting for a person at approval prompts
  std::set<std::string> approved_;  // irreversible tasks a person or policy approved
  PlanRunResult result_;
  bool leave_running_ = false;  // agent::TaskResult::step_left_running

  // Parallel tasks (scheduler thread only, except where a mutex says).
  std::thread::id scheduler_;
  std::map<std::string, std::string> review_base_;  // task -> where its first attempt began
  std::map<std::string, Tier> tier_of_;               // escalated to the slow tier
  std::map<std::string, int> conflicts_;              // requeues after a failed merge
  std::map<std::string, std::string> merge_feedback_;  // for the task's next start
  fs::path git_dir_;  // the common git directory (worktrees live under it)
  std::vector<PlanTask> merging_;  // settled, not merged yet (while starting others)
  std::vector<std::string> free_slots_;
  std::set<std::string> made_slots_;  // worktrees that exist (idle ones are in free_slots_)
  int slots_made_ = 0;
  struct QueuedNote {
    std::string task_id;
    memory::NoteKind kind;
    std::string text;
  };
  Mutex notes_mu_;
  std::vector<QueuedNote> notes_ GUARDED_BY(notes_mu_);
  Mutex done_mu_;
  std::condition_variable_any done_cv_;
  std::deque<AgentDone> done_ GUARDED_BY(done_mu_);
  std::deque<std::pair<std::string, ApprovalDecision>> answers_ GUARDED_BY(done_mu_);
  struct Asking {
    PlanTask task;
    Tier tier = Tier::kExecutor;
    ApprovalRequest request;
    std::jthread thread;
  };
  std::map<std::string, Asking> asking_;  // approvals asked without waiting, by task id
  agent::InterruptHub agents_stop_;  // stops every agent: Ctrl-C or an error of the run
  // Last: destroyed (threads joined) before anything they use.
  std::map<std::string, std::unique_ptr<Agent>> agents_;  // running, by task id
};

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

}  // namespace

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

}  // namespace tandem::orchestrator
