// PlanRunner: the one object behind RunPlan and ResumePlan (plan_runner.h).
// Private to orchestrator/: nothing outside plan_runner*.cc includes it.
//
// It is one class whose methods are spread over files by responsibility,
// each file opening with what it does, its thread-safety and its errors:
//   plan_runner.cc             the scheduling loop over a TaskQueue: starts,
//                              settles, run start and end
//   plan_runner_record.cc      what a task's start and end write: plan.md
//                              checkboxes, progress.md, ledger rows, events;
//                              the task's spec and environment (Prepare)
//   plan_runner_approvals.cc   approvals of tasks and of irreversible
//                              commands, cancelling one task
//   plan_runner_merge.cc       the merge queue: worktree results merged
//                              into the integrated tree in batches, each
//                              gated in a lane of its own (speculatively
//                              on top of the lanes ahead), landed in the
//                              checkout in order, or requeued; the
//                              worktree pool
//   plan_runner_escalation.cc  the queue's failure hook: re-plan, split,
//                              slow tier, or fail
//   plan_runner_fanout.cc      a task with `variants: N`: its fan-out
//                              (fanout.h) as the task's agent
//   plan_runner_recovery.cc    `tandem resume`: interrupted steps and tasks,
//                              leftovers of a killed process
//
// Threads. The calling thread is the scheduler: it alone owns the TaskQueue
// and writes plan.md, progress.md, the checkout and the run's checkpoints.
// With parallel_ == 1 a task's agent runs on the scheduler itself, in the
// checkout; with parallel_ > 1 each agent runs on a std::jthread of its own
// in a pooled worktree and posts its result to done_; each merge lane's
// gates run on a thread of their own, in a pooled worktree, and post their
// verdict to gated_. Agent and lane threads touch
// only what a Mutex guards (steering inbox, totals, queued progress notes,
// the cancel registry, the result queue) and the thread-safe event sink,
// ledger and LiveOps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tandem/base/strings.h"
#include "tandem/agent/task_runner.h"
#include "tandem/base/clock.h"
#include "tandem/base/mutex.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/orchestrator/plan_runner.h"
#include "tandem/orchestrator/steer.h"
#include "tandem/orchestrator/task_queue.h"
#include "tandem/workspace/workspace.h"

namespace tandem::orchestrator {

class PlanRunner {
 public:
  explicit PlanRunner(const RunnerEnv& env);
  PlanRunner(const PlanRunner&) = delete;
  PlanRunner& operator=(const PlanRunner&) = delete;

  // RunPlan and ResumePlan (errors as documented there).
  Result<PlanRunResult> Start();
  Result<PlanRunResult> Resume(const std::string& wanted);

  // A kCancel op, on the op's thread (plan_runner_approvals.cc): the task
  // is skipped before it starts, or its agent is stopped and its work
  // dropped, or its result is dropped from the merge queue (a lane gating
  // it is stopped). NotFound (no such task), FailedPrecondition (already
  // over, or its merged tree is being landed in the checkout).
  Status CancelTask(const std::string& task_id);

 private:
  using PlanTask = memory::PlanTask;

  // A task's agent, from its start to its settling.
  struct Agent {
    PlanTask task;
    Tier tier = Tier::kExecutor;
    int attempt = 0;
    bool in_checkout = false;      // parallel_ == 1: no worktree, no merge
    bool fanout = false;           // `variants: N` > 1: RunFanoutAgent, merged like a worktree's
    std::string slot;              // worktree id, <run>-slot-K (parallel only; not a fan-out)
    bool reuse = false;            // the slot's worktree exists: Reset, not Create
    // The slot's Workspace: handed in from its last user (so the reset costs
    // what changed, workspace/worktree.h), handed back when this one settles.
    std::unique_ptr<workspace::Workspace> ws;
    workspace::CheckpointId base;  // the integrated checkpoint it started from
    agent::TaskSpec spec;
    agent::TaskEnv env;
    std::unique_ptr<agent::InterruptHub> stop;  // a child of agents_stop_: a cancel stops it alone
    std::jthread thread;                        // declared last: joined before `stop` goes
  };
  struct AgentDone {
    std::string task_id;
    Result<agent::TaskResult> result;
  };
  // A task that passed its gates in its worktree, to merge.
  struct Finished {
    std::unique_ptr<Agent> agent;
    agent::TaskResult outcome;
    bool alone = false;   // its batch failed: it goes through a lane of its own
    bool waited = false;  // "waits in the merge queue" was said
  };
  // A batch of merges in the merge queue (plan_runner_merge.cc): merged
  // onto the tree of the lane ahead (or the integrated tree, for the head)
  // and gated in a pooled worktree on a thread of its own.
  struct Lane {
    int id = 0;
    std::vector<Finished> batch;
    workspace::CheckpointId onto;      // integrated tree, or the lane ahead's `merged`
    workspace::CheckpointId merged;    // onto + the batch (a commit; not on the run's chain)
    std::vector<std::string> changed;  // paths where `merged` differs from `onto`
    std::string slot;
    bool reuse = false;
    std::unique_ptr<workspace::Workspace> ws;  // the slot's, as for an Agent
    // Its verdict (scheduler's copy, once posted); lanes land in order.
    std::optional<Result<agent::VerifiedStepPolicy::GateCheck>> verdict;
    std::unique_ptr<agent::InterruptHub> stop;  // a child of agents_stop_
    std::jthread thread;                        // declared last: joined before `stop` goes
  };
  struct LaneDone {
    int lane = 0;
    Result<agent::VerifiedStepPolicy::GateCheck> check;
  };
  // A task's spec and environment, built by Prepare for the checkout.
  struct Prepared {
    agent::TaskSpec spec;
    agent::TaskEnv env;
    int attempt = 0;
  };
  // What the queue's failure hook escalates (set around TaskFinished).
  struct Failing {
    PlanTask task;
    Tier tier = Tier::kExecutor;
    agent::TaskResult outcome;
  };
  // See plan_runner_recovery.cc.
  struct InterruptedTask {
    std::string task_id;
    std::optional<workspace::CheckpointId> base, last;
    std::set<std::string> paths;
    size_t finished = 0;
  };
  struct Asking {
    PlanTask task;
    Tier tier = Tier::kExecutor;
    ApprovalRequest request;
    std::jthread thread;
  };
  struct QueuedNote {
    std::string task_id;
    memory::NoteKind kind;
    std::string text;
  };
  using Answer = std::pair<std::string, ApprovalDecision>;

  // ---- plan_runner.cc: the scheduling loop ----
  Result<PlanRunResult> Loop();
  bool Going() const;  // not interrupted, not stopped: tasks may start
  Status FillCapacity();
  Status SyncQueue(const memory::Plan& plan);
  Status StartAgent(const memory::Plan& plan, const PlanTask& task, Tier tier, bool approved);
  Result<agent::TaskResult> RunAgent(Agent& a);
  void Post(const std::string& task_id, Result<agent::TaskResult> result);
  std::vector<AgentDone> WaitForAgents(std::vector<Answer>& answers,
                                       std::vector<LaneDone>& gated);
  Status SettleAll(std::vector<AgentDone> results);
  Status Settle(AgentDone done);
  Status Conclude(const PlanTask& task, Tier tier, agent::TaskResult outcome);
  void Stop(const std::string& why, int exit_code);
  void SizeParallelism(const memory::Plan& plan);
  Tier TierOf(const PlanTask& task) const;
  static QueuedTask Queued(const PlanTask& t);
  bool Interrupted() const { return env_.interrupts && env_.interrupts->interrupted(); }
  void Finalize(const memory::Plan& plan);
  Result<PlanRunResult> End(std::chrono::steady_clock::time_point start);

  // ---- plan_runner_record.cc: plan.md, progress.md, ledger, events ----
  template <typename Payload>
  void Publish(const std::string& task_id, Payload payload) {
    env_.events->Publish({{run_id_, task_id, "orchestrator"}, WallClockMs(), std::move(payload)});
  }
  void Notice(protocol::NoticeLevel level, const std::string& text, const std::string& task = "");
  void Progress(const Status& status);
  Result<memory::Plan> LoadCheckedPlan();
  void Upsert(const PlanTask& task, memory::TaskState state, const std::string& tier,
              const std::string& detail);
  Status Mark(const std::string& id, memory::TaskState state);
  void CheckpointMemory();
  void UpdateNext(const memory::Plan& plan, const std::vector<PlanTask>& running);
  std::vector<PlanTask> RunningTasks() const;
  Result<Prepared> Prepare(const memory::Plan& plan, const PlanTask& task, Tier tier,
                           bool allow_irreversible_commands, const std::string& where);
  Status Done(const PlanTask& task, Tier tier, const agent::TaskResult& outcome);
  Status Fail(const PlanTask& task, Tier tier, const std::string& why, int retries);
  Status RecordStopped(const PlanTask& task, Tier tier, const agent::TaskResult& outcome);
  Status Skip(const PlanTask& task, Tier tier, const std::string& why);
  Status SkipCancelled(const PlanTask& task, Tier tier) {
    return Skip(task, tier, "cancelled by a person");
  }
  const ModelSlot& Slot(Tier tier) const;
  std::string TierRole(Tier tier) const;
  void AddTotals(const agent::RunTotals& t);
  void AddSpend(const protocol::Usage& usage, double cost_usd, double model_ms);
  void AddHumanMs(double ms);
  std::string TakeSteerForTask(const std::string& task_id);
  std::string TakeSteerForStep(const std::string& task_id, std::optional<ledger::StepId> step);
  void Note(const std::string& task_id, memory::NoteKind kind, const std::string& text);
  void FlushNotes();

  // ---- plan_runner_approvals.cc ----
  Result<std::optional<bool>> Approve(const PlanTask& task, Tier tier);
  ApprovalDecision DecideApproval(const ApprovalRequest& request);
  Result<ApprovalRequest> RequestApproval(const PlanTask& task, Tier tier);
  Result<std::optional<bool>> Answered(const PlanTask& task, Tier tier,
                                       const ApprovalRequest& request, const ApprovalDecision& d);
  Status AskWithoutWaiting(const PlanTask& task, Tier tier);
  Status OnAnswer(const std::string& task_id, const ApprovalDecision& d);
  std::optional<ledger::StepId> RunningStep(const std::string& task_id);
  tools::CommandDecision DecideCommand(const PlanTask& task, const std::string& command,
                                       const std::string& why, workspace::Workspace& ws);
  bool IsCancelled(const std::string& task_id);
  void RegisterStop(const std::string& task_id, agent::InterruptHub* stop);
  Status UndoTaskSteps(const PlanTask& task);

  // ---- plan_runner_merge.cc: the merge queue ----
  Status PumpMerges();
  Status StartLane(std::vector<Finished> batch, const workspace::CheckpointId& onto,
                   const workspace::CheckpointId& merged, std::vector<std::string> changed);
  Result<agent::VerifiedStepPolicy::GateCheck> GateLane(Lane& lane);
  Status OnGated(std::vector<LaneDone> gated);
  Status DropCancelled();
  Status DropCancelledResult(Finished& f);
  bool AnyCancelled(const Lane& lane);
  bool ClaimLanding(const Lane& lane);
  void ReleaseLane(Lane& lane, bool stop);
  Status Land(Lane& lane);
  Status Rejected(Lane& lane, const std::string& feedback);
  void DiscardLanes();
  Status RecordMergeSteps(const Lane& lane, ledger::StepState state,
                          const workspace::CheckpointId& before,
                          const workspace::CheckpointId& after, const std::string& note);
  Status CloseMerges();
  Status NotMerged(Finished& f);
  std::pair<std::string, bool> TakeSlot(std::unique_ptr<workspace::Workspace>* ws);
  void GiveSlot(const std::string& slot, std::unique_ptr<workspace::Workspace> ws);
  Status Requeue(const PlanTask& task, Tier tier, const std::string& why,
                 agent::TaskResult outcome);
  void RemovePool();
  void RemoveLeftoverWorktrees();

  // ---- plan_runner_fanout.cc ----
  Result<agent::TaskResult> RunFanoutAgent(Agent& a);

  // ---- plan_runner_escalation.cc ----
  Result<bool> Finish(const PlanTask& task, Tier tier, TaskOutcome outcome,
                      agent::TaskResult result);
  FailureDecision OnFailure(const std::string& task_id);
  Result<FailureDecision> Escalate(const PlanTask& failed_task, Tier tier,
                                   agent::TaskResult outcome);
  Status EditPlan(const std::function<Result<std::string>(const std::string&)>& edit);
  std::string BestAttemptDiff(const agent::TaskResult& outcome);

  // ---- plan_runner_recovery.cc ----
  void RemoveStaleTempFiles();
  void RemoveStaleAgentRefLocks();
  Result<InterruptedTask> FindInterruptedTask();
  Status RefuseEditedFiles(const InterruptedTask& task, const workspace::CheckpointId& found);
  Status RestartInterruptedTask(const InterruptedTask& task);
  Status ResetUnfinished(const memory::Plan& plan, bool resumed);
  Status RunUnverifiedDoneTasks(const memory::Plan& plan);

  const RunnerEnv& env_;
  const std::filesystem::path root_;
  const std::filesystem::path plan_path_;
  const std::filesystem::path progress_path_;
  size_t parallel_;                           // limits.parallel_tasks (0, auto: SizeParallelism)
  std::unique_ptr<workspace::Workspace> ws_;  // the checkout
  std::string run_id_;
  std::string task_base_;  // checkpoint a task started from (best-attempt diff, cancel undo)
  std::optional<TaskQueue> queue_;  // made by Loop()
  std::optional<Failing> failing_;  // while TaskFinished may call OnFailure
  bool escalated_ = false;          // OnFailure ran
  Status hook_status_;              // OnFailure's error, returned by Finish
  std::map<std::string, int> escalations_;
  std::map<std::string, int> attempts_;
  std::map<std::string, std::string> review_base_;     // task -> where its first attempt began
  std::map<std::string, Tier> tier_of_;                // escalated to the slow tier
  std::map<std::string, std::string> merge_feedback_;  // for the task's next start
  std::set<std::string> approved_;  // irreversible tasks a person or policy approved
  PlanRunResult result_;
  bool leave_running_ = false;  // agent::TaskResult::step_left_running
  std::thread::id scheduler_;

  Mutex cancel_mu_;
  std::set<std::string> cancelled_ GUARDED_BY(cancel_mu_);  // kCancel ops' tasks
  // A task's agent, or the merge lane gating its result.
  std::map<std::string, agent::InterruptHub*> task_stops_ GUARDED_BY(cancel_mu_);
  // Tasks whose merged tree is being landed: too late to cancel.
  std::set<std::string> landing_ GUARDED_BY(cancel_mu_);
  Mutex inbox_mu_;
  SteerInbox* inbox_ GUARDED_BY(inbox_mu_) = nullptr;
  Mutex stats_mu_;
  agent::RunTotals totals_ GUARDED_BY(stats_mu_);
  double human_ms_ GUARDED_BY(stats_mu_) = 0;  // waiting for a person at approval prompts
  Mutex notes_mu_;
  std::vector<QueuedNote> notes_ GUARDED_BY(notes_mu_);  // for progress.md, from agent threads

  // The worktree pool (parallel_ > 1; scheduler only).
  std::filesystem::path git_dir_;  // the common git directory (worktrees live under it)
  std::vector<std::string> free_slots_;
  std::set<std::string> made_slots_;  // worktrees that exist (idle ones are in free_slots_)
  std::map<std::string, std::unique_ptr<workspace::Workspace>> slot_ws_;  // idle slots'
  int slots_made_ = 0;
  // The variants table, opened by the first fan-out task (scheduler only;
  // thread-safe once open).
  std::unique_ptr<ledger::FanoutLedger> fanout_ledger_;

  // The merge queue (scheduler only): settled successes not yet in a lane,
  // in the order they settled, and the lanes being gated, the head first.
  std::deque<Finished> to_merge_;
  int lanes_made_ = 0;

  Mutex done_mu_;
  std::condition_variable_any done_cv_;
  std::deque<AgentDone> done_ GUARDED_BY(done_mu_);
  std::deque<Answer> answers_ GUARDED_BY(done_mu_);
  std::deque<LaneDone> gated_ GUARDED_BY(done_mu_);
  bool cancel_posted_ GUARDED_BY(done_mu_) = false;  // a kCancel op came: look at the merge queue
  std::map<std::string, Asking> asking_;  // approvals asked without waiting, by task id
  agent::InterruptHub agents_stop_;       // stops every agent: Ctrl-C or an error of the run
  // Last: destroyed (threads joined) before anything they use.
  std::map<std::string, std::unique_ptr<Agent>> agents_;  // started, not settled, by task id
  std::deque<std::unique_ptr<Lane>> lanes_;               // the merge queue's lanes, head first
};

}  // namespace tandem::orchestrator
