// What a task's start and end write (part of PlanRunner,
// plan_runner_internal.h): plan.md checkboxes, progress.md (outcomes,
// notes, "next"), the ledger's task rows, events, and the run's totals;
// and Prepare, which builds a task's spec (its part of progress.md, steering
// notes, merge feedback) and environment (tier, gates, approval hooks).
//
// plan.md and progress.md have one writer, the scheduler: a note an agent
// thread makes (Note) is queued and written by FlushNotes. progress.md is a
// log: a failure to write it is a warning, never fatal; a ledger task row
// that cannot be written is a warning too (the checkbox is the record a
// resume reads). A checkbox that cannot be set is an error (Status).
//
// Thread-safety: scheduler thread only, except AddTotals, AddSpend,
// AddHumanMs, TakeSteerFor*, Note and Notice, which any agent thread may
// call (they lock their own mutex; events go to the thread-safe sink).
#include <fmt/format.h>

#include <set>

#include "tandem/memory/memory_file.h"
#include "tandem/orchestrator/plan_runner_internal.h"
#include "tandem/orchestrator/task_review.h"

namespace tandem::orchestrator {
namespace {

using memory::PlanTask;

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

}  // namespace

using memory::TaskState;
using protocol::NoticeLevel;
using protocol::TaskEnd;

// plan.md, parsed, with every gate its tasks name defined in verify.md;
// refused, like a progress.md tandem could not update, when either is a
// link leading out of the repository (ReadMemoryFile), before anything runs.
Result<memory::Plan> PlanRunner::LoadCheckedPlan() {
  memory::Plan plan = TRY(memory::LoadPlan(plan_path_));
  if (auto progress = memory::ReadMemoryFile(progress_path_);
      !progress && progress.error().code() != StatusCode::kNotFound) {
    return progress.error();
  }
  Status gates = CheckPlanGates(plan, env_.gates);
  if (!gates.ok()) return gates.WithContext(plan_path_.string());
  return plan;
}

void PlanRunner::Notice(NoticeLevel level, const std::string& text, const std::string& task) {
  Publish(task, protocol::Notice{level, text});
}
// progress.md is a log: a failure to write it is reported, not fatal.
void PlanRunner::Progress(const Status& status) {
  if (!status.ok()) Notice(NoticeLevel::kWarn, "progress.md: " + status.message());
}

void PlanRunner::Upsert(const PlanTask& task, TaskState state, const std::string& tier,
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
Status PlanRunner::Mark(const std::string& id, TaskState state) {
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
void PlanRunner::CheckpointMemory() {
  auto c = ws_->Checkpoint(workspace::TouchedPaths::Only({std::string(memory::kPlanFileName),
                                                          std::string(memory::kProgressFileName)}),
                           "plan.md and progress.md");
  if (!c)
    Notice(NoticeLevel::kWarn, "checkpoint of plan.md/progress.md failed: " + c.error().message());
}

// progress.md's "next": every running task, then the ready ones.
void PlanRunner::UpdateNext(const memory::Plan& plan, const std::vector<PlanTask>& running) {
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

std::vector<PlanRunner::PlanTask> PlanRunner::RunningTasks() const {
  std::vector<PlanTask> out;
  for (const auto& [id, a] : agents_) out.push_back(a->task);
  return out;
}

// A task's agent, before it starts: the checkbox, ledger row and
// progress.md say it runs, and its spec and environment are built for the
// checkout (StartAgent moves them to a worktree when tasks run in parallel).
// `where`: the ledger row's detail while it runs (its worktree), before
// task_started is published.
Result<PlanRunner::Prepared> PlanRunner::Prepare(const memory::Plan& plan, const PlanTask& task,
                                                 Tier tier, bool allow_irreversible_commands,
                                                 const std::string& where) {
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
  env.irreversible_commands = [this, task, ws](const std::string& command, const std::string& why) {
    return DecideCommand(task, command, why, *ws);
  };
  Publish(task.id, protocol::TaskStarted{task.title, TierRole(tier), slot.name, p.attempt});
  return p;
}

// A task whose gates passed on the final tree (the checkout): done, and
// the queue hears it (its dependents become ready).
Status PlanRunner::Done(const PlanTask& task, Tier tier, const agent::TaskResult& outcome) {
  // The ledger first: a kill between the two leaves [~] + done, which a
  // resume reads as done.
  Upsert(task, TaskState::kDone, TierRole(tier), FirstLine(outcome.summary));
  RETURN_IF_ERROR(Mark(task.id, TaskState::kDone));
  Progress(memory::RecordOutcome(progress_path_, {task.id, task.title, TaskState::kDone,
                                                  outcome.totals.retries, outcome.summary}));
  result_.done++;
  Publish(task.id, protocol::TaskFinished{TaskEnd::kDone, outcome.summary, outcome.totals.retries});
  return queue_->TaskFinished(task.id, TaskOutcome::kSucceeded);
}

// A task given up (from the failure hook: the queue is told by its answer).
Status PlanRunner::Fail(const PlanTask& task, Tier tier, const std::string& why, int retries) {
  Upsert(task, TaskState::kFailed, TierRole(tier), FirstLine(why));
  RETURN_IF_ERROR(Mark(task.id, TaskState::kFailed));
  Progress(memory::RecordOutcome(progress_path_,
                                 {task.id, task.title, TaskState::kFailed, retries, why}));
  result_.failed++;
  Publish(task.id, protocol::TaskFinished{TaskEnd::kFailed, why, retries});
  return Status::Ok();
}

// A task that ends without a verdict goes back to pending: interrupted
// (the run stops with it), or a provider or internal error (the run stops
// with that reason; the step left running stays so for `tandem resume`).
Status PlanRunner::RecordStopped(const PlanTask& task, Tier tier,
                                 const agent::TaskResult& outcome) {
  if (outcome.outcome == agent::TaskOutcome::kInterrupted) {
    result_.interrupted = true;
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Upsert(task, TaskState::kPending, TierRole(tier), "interrupted");
  } else {
    leave_running_ = outcome.step_left_running;
    result_.stop_reason = outcome.summary;
    result_.exit_code = protocol::ExitCodeFor(outcome.outcome);
    RETURN_IF_ERROR(Mark(task.id, TaskState::kPending));
    Upsert(task, TaskState::kPending, TierRole(tier), outcome.summary);
  }
  Publish(task.id,
          protocol::TaskFinished{TaskEnd::kInterrupted, outcome.summary, outcome.totals.retries});
  return Status::Ok();
}

// The task does not run (denied, cancelled): [-], ledger, progress.md, event.
Status PlanRunner::Skip(const PlanTask& task, Tier tier, const std::string& why) {
  RETURN_IF_ERROR(Mark(task.id, TaskState::kSkipped));
  Upsert(task, TaskState::kSkipped, TierRole(tier), why);
  Progress(
      memory::RecordOutcome(progress_path_, {task.id, task.title, TaskState::kSkipped, 0, why}));
  result_.skipped++;
  Publish(task.id, protocol::TaskFinished{TaskEnd::kSkipped, why, 0});
  return Status::Ok();
}

void PlanRunner::AddTotals(const agent::RunTotals& t) {
  MutexLock lock(stats_mu_);
  totals_.steps += t.steps;
  totals_.retries += t.retries;
  totals_.usage += t.usage;
  totals_.cost_usd += t.cost_usd + t.review_cost_usd;
  totals_.model_ms += t.model_ms;
  totals_.tool_ms += t.tool_ms;
  totals_.gate_ms += t.gate_ms;
}

const ModelSlot& PlanRunner::Slot(Tier tier) const {
  return tier == Tier::kExecutor ? env_.executor : env_.slow;
}
std::string PlanRunner::TierRole(Tier tier) const {
  return tier == Tier::kExecutor ? "executor"
                                 : std::string(config::RoleName(env_.policy.slow_role));
}

std::string PlanRunner::TakeSteerForTask(const std::string& task_id) {
  MutexLock lock(inbox_mu_);
  return inbox_->TakeForTask(task_id);
}
std::string PlanRunner::TakeSteerForStep(const std::string& task_id,
                                         std::optional<ledger::StepId> step) {
  MutexLock lock(inbox_mu_);
  return inbox_->TakeForStep(task_id, step);
}
void PlanRunner::AddSpend(const protocol::Usage& usage, double cost_usd, double model_ms) {
  MutexLock lock(stats_mu_);
  totals_.usage += usage;
  totals_.cost_usd += cost_usd;
  totals_.model_ms += model_ms;
}
void PlanRunner::AddHumanMs(double ms) {
  MutexLock lock(stats_mu_);
  human_ms_ += ms;
}
// A note for progress.md: written now on the scheduler's thread, else
// queued for it (progress.md has one writer).
void PlanRunner::Note(const std::string& task_id, memory::NoteKind kind, const std::string& text) {
  if (std::this_thread::get_id() == scheduler_ || scheduler_ == std::thread::id()) {
    Progress(memory::AppendNote(progress_path_, task_id, kind, text));
    return;
  }
  MutexLock lock(notes_mu_);
  notes_.push_back({task_id, kind, text});
}
void PlanRunner::FlushNotes() {
  std::vector<QueuedNote> notes;
  {
    MutexLock lock(notes_mu_);
    notes.swap(notes_);
  }
  for (const QueuedNote& n : notes) {
    Progress(memory::AppendNote(progress_path_, n.task_id, n.kind, n.text));
  }
}
}  // namespace tandem::orchestrator
