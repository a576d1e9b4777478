// `tandem run` and `tandem resume`: executes plan.md in one run.
//
// A capacity loop over a task queue (ninja's Plan/Builder; task_queue.h):
// while fewer than limits.parallel_tasks tasks run, the first ready task in
// plan order whose scope overlaps no running task starts; as each ends, the
// queue hears how (done, merge conflict: run again, failed: escalate or
// give up). plan.md is re-read before each start and applied to the queue
// (TaskQueue::Update), so a person's edit, or a re-plan, takes effect for
// every task not yet started. With parallel_tasks = 1 a task runs in the
// checkout itself; with more, each runs in its own worktree and is merged
// into the checkout, then gated again there (ARCHITECTURE.md "Plan runs:
// one loop over a task queue").
//
// A task's risk routes it (policy.h): reversible -> the executor tier;
// irreversible -> an approval (a person through LiveOps, or the policy),
// then the slow tier. The task runs through the verified loop
// (agent::ExecuteTask) with its scope, its acceptance (its verify.md gates
// plus its `check` commands as final gates) and a bounded context: its part
// of progress.md and pending steering notes. An executor's command that the
// classifier marks irreversible goes to the slow tier for review
// (command_review.h), then to the approval policy or a person (LiveOps);
// the refusal's reason, or the command's result, goes back to the executor,
// and the decision is an approvals row (docs/GUARDRAILS.md). Around it the
// checkbox goes [~] -> [x] / [!] / [-] / [?], the ledger's task row
// follows, and progress.md records the outcome and what comes next. A task
// that fails after its retry budget is escalated to the planner (rewrite,
// split, slow tier), at most RunPolicy::max_escalations times; then it is
// failed and the run goes on with the tasks that do not depend on it.
//
// Durability: plan.md and progress.md are replaced atomically and
// checkpointed with the run before each task, so a kill -9 at any point
// leaves files + ledger + refs from which ResumePlan continues the same run:
// done tasks are never redone, an interrupted step is rolled back to its
// checkpoint and its task retried.
//
// Thread-safety: one call at a time per repository; events are published on
// the calling thread and, with parallel tasks, on each agent's thread (the
// sink must be thread-safe, as cli's is).
#pragma once

#include <string>
#include <vector>

#include "tandem/agent/interrupt.h"
#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/approval.h"
#include "tandem/orchestrator/ops.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/orchestrator/policy.h"
#include "tandem/platform/job_budget.h"
#include "tandem/protocol/event.h"
#include "tandem/verify/gate.h"

namespace tandem::orchestrator {

struct RunnerEnv {
  std::string repo_root;
  config::Config config;
  ModelSlot executor;                     // the fast tier
  ModelSlot slow;                         // irreversible and escalated tasks
  ModelSlot planner;                      // re-plans failed tasks (client may be null: no re-plan)
  ModelSlot reviewer;                     // review before done (client null: none; task_review.h)
  protocol::EventSink* events = nullptr;  // REQUIRED
  ledger::Ledger* ledger = nullptr;       // REQUIRED
  std::vector<verify::Gate> gates;        // verify.md
  std::string gates_source;
  agent::InterruptHub* interrupts = nullptr;  // optional
  // The process's job budget (cli::Runtime::jobs), for every task's
  // agent::TaskEnv::job_budget; not owned. Null: no shared budget.
  platform::JobBudget* job_budget = nullptr;
  // The run's input queue (ops.h), not owned; optional (null: nobody to
  // ask). Approvals are opened on it; while the run goes on it takes the
  // kCancel ops (one task, by id).
  LiveOps* ops = nullptr;
  RunPolicy policy;
};

struct PlanRunResult {
  std::string run_id;
  int done = 0;  // tasks done in this run
  int failed = 0;
  int skipped = 0;  // denied (or split)
  int waiting = 0;  // waiting for approval
  int blocked = 0;  // pending, their dependencies will not finish
  bool interrupted = false;
  std::string stop_reason;  // why the run stopped early (provider error, bad plan.md)
  int exit_code = 0;        // docs/EVENTS.md "Exit codes"
};

// Starts a new run of kind "run" over plan.md. A task left [~] or [?] by an
// earlier run becomes pending again. Errors (nothing ran): plan.md missing
// or malformed (kInvalidArgument naming the line), another run is going on
// in this repository (kFailedPrecondition), git or ledger failures.
Result<PlanRunResult> RunPlan(const RunnerEnv& env);

// Continues run `run_id` (empty: the last unfinished run of kind "run"):
// rolls interrupted steps back to their checkpoints, adopts the run
// (Ledger::AdoptRun) and executes the rest of plan.md. kNotFound when there
// is nothing to resume; kFailedPrecondition when its process is alive.
Result<PlanRunResult> ResumePlan(const RunnerEnv& env, const std::string& run_id);

}  // namespace tandem::orchestrator
