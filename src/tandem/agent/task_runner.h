// RunTask: one task carried out by one agent in one workspace, end to end:
// recover what a killed process left behind, start a run (checkpoint 0 and
// a ledger row), build the prompt, run the verified turn loop, and record
// the outcome. `tandem do` calls it once; `tandem run` once per plan task.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/review.h"
#include "tandem/agent/verified_step.h"
#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/ledger/ledger.h"
#include "tandem/protocol/event.h"
#include "tandem/protocol/vocabulary.h"
#include "tandem/providers/model_client.h"
#include "tandem/tools/toolbox.h"
#include "tandem/verify/gate.h"
#include "tandem/workspace/workspace.h"

namespace tandem::agent {

struct TaskSpec {
  std::string run_id;
  std::string task_id;  // empty for `tandem do`
  std::string kind = "do";
  std::string task;     // what to do, in words
  std::vector<std::string> scope;  // extra path scope for this task (globs)
  std::string extra_context;       // progress notes and steering for this task
  // Skills (agent/skill_context.h): forced into the first request
  // (`tandem do --skill NAME`), whatever the ranking says.
  std::vector<std::string> skills;
  // `tandem skills eval`'s arm without the skill: no skill is injected, and
  // the task is recorded as the comparison arm of this skill.
  std::string skill_compared;
  bool skills_eval = false;  // the task is a `tandem skills eval` case
};

struct TaskEnv {
  std::string repo_root;
  config::Config config;
  std::string model_name;     // key under [models]
  config::ModelConfig model;  // resolved model (id, prices)
  std::string provider;       // provider name
  providers::ModelClient* client = nullptr;
  protocol::EventSink* events = nullptr;
  ledger::Ledger* ledger = nullptr;  // optional
  std::vector<verify::Gate> gates;
  std::string gates_source;  // "verify.md" or the detection sentence
  InterruptHub* interrupts = nullptr;  // optional: Ctrl-C reaches the run through it
  // The process's job budget (cli::Runtime::jobs), shared by every agent:
  // the task's commands and gates each hold a token while they run. Not
  // owned; null: commands take none and each gate round sizes its own.
  platform::JobBudget* job_budget = nullptr;
  std::string role = "executor";       // the role/tier recorded for model calls
  // Optional: steering notes for the next step (VerifiedStepDeps::pending_notes).
  std::function<std::string(std::optional<ledger::StepId>)> steer_notes;
  // Optional: decides run_command calls the classifier marks irreversible
  // (`tandem run`: slow-tier review, then approval). Empty: they are refused
  // under guardrails.command_policy = refuse-risky (`tandem do`).
  tools::IrreversibleCommandHook irreversible_commands;
  // VerifiedStepOptions::tandem_files.
  std::vector<std::string> tandem_files;
  // Optional: MCP servers the caller started (StartMcpServers), shared by
  // its tasks. Null: ExecuteTask starts the configured ones for the task and
  // shuts them down when it ends.
  std::shared_ptr<tools::McpTools> mcp;
  // Review before done (agent/review.h): the reviewer and when it reads
  // the task's change. Default: no reviewer, never reviewed.
  ReviewSetup review;
  // The checkpoint (hex) where the task's change starts for its review, when
  // earlier attempts' changes are still in the tree (`tandem run` escalating
  // a task); empty: where this execution starts.
  std::string review_base;
  // Optional: a checkpoint (hex) whose files the repository's skills folders
  // hold exactly when the task starts (a fan-out variant's worktree, just
  // checked out at the fan-out's base). The skills catalog is then shared by
  // every task naming it (skills::CatalogCache::GetPinned) instead of read
  // once per worktree. Empty: read from repo_root.
  std::string skills_checkpoint;
};

// How the task ended (shared vocabulary); protocol::ExitCodeFor gives the
// process exit code.
using TaskOutcome = protocol::Outcome;

struct TaskResult {
  TaskOutcome outcome = TaskOutcome::kError;
  std::string summary;
  RunTotals totals;
  std::string best_attempt_ref;
  std::string final_checkpoint;
  int64_t first_request_tokens = 0;
  double wall_ms = 0;
  // VerifiedStepPolicy::step_left_running(): the caller must not end the
  // run in the ledger, so the next tandem command recovers it like a crash.
  bool step_left_running = false;
  // The task's last review (approve: the reviewer's commit message).
  std::optional<ReviewResult> review;
  std::string commit;  // `tandem run --commit`: the task's commit
};

// Restores the checkpoint of every step a dead tandem process left
// 'running' in this repository, and closes its runs as interrupted. A step
// that ran in an agent's worktree of a parallel run (its checkpoint is not
// on the run's own chain, see IsOnRunChain) is not restored in the
// checkout: the worktree is discarded and its task runs again.
// Returns a line per recovered step (empty when there was nothing to do).
Result<std::vector<std::string>> RecoverInterrupted(const std::string& repo_root,
                                                    ledger::Ledger& ledger);

// Whether `checkpoint` is one of run `run_id`'s own checkpoints
// (refs/tandem/runs/<run_id>/...), not one of its agents' in their worktrees
// (`tandem run` with parallel tasks gives each agent run id <run_id>.<...>).
Result<bool> IsOnRunChain(workspace::Workspace& ws, std::string_view run_id,
                          const workspace::CheckpointId& checkpoint);

// `tandem do`: a run of one task. Opens the workspace, starts the run
// (checkpoint 0, ledger row), executes the task and records the outcome.
Result<TaskResult> RunTask(const TaskSpec& spec, const TaskEnv& env);

// One task inside a run that the caller started (ws has an active run, the
// ledger has the run row). Task-level diff caps count from the workspace's
// last checkpoint. `on_prompt_ready` (may be empty) receives the estimated
// size of the first request before the first model call. Does not end the run.
Result<TaskResult> ExecuteTask(const TaskSpec& spec, const TaskEnv& env, workspace::Workspace& ws,
                               const std::function<void(int64_t)>& on_prompt_ready);

// Gates `env.gates` (all of them, as a task's final round) on checkpoint
// `at` of `ws`'s working tree, confined and recorded as a step's gates are,
// against ledger step `step`: `tandem run` re-gates a task's merged tree
// with it, so "done" still means tandem saw the gates pass on the final
// tree. An interrupt (env.interrupts) kills running gates (they fail).
Result<VerifiedStepPolicy::GateCheck> CheckGates(const TaskSpec& spec, const TaskEnv& env,
                                                 workspace::Workspace& ws,
                                                 const workspace::CheckpointId& at,
                                                 ledger::StepId step);

// What commands and gates may reach besides the workspace, from the
// configuration ([environment], sandbox.home_dirs, sandbox.network).
platform::ChildPolicy ChildPolicyFrom(const config::Config& cfg);

// The enabled [mcp_servers] of env.config, started for the workspace
// env.repo_root as commands are (sandbox, environment: ToolOptions of env);
// a server that fails is left out with a note (McpTools::notes). Null when
// no server is enabled.
std::shared_ptr<tools::McpTools> StartMcpServers(const TaskEnv& env, std::stop_token cancel = {});

// A fresh run id: "20261122-131900-4f2a".
std::string NewRunId();

}  // namespace tandem::agent
