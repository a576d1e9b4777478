// VerifiedStepPolicy: the policy wrapped around the turn loop that makes a
// task trustworthy. For every step that may edit, it relies on the last
// checkpoint (taken after the previous step), runs the tools, checks the
// guardrails (deletes, diff caps, path scope), runs the "each step" gates on
// the new tree, and rolls the step back with feedback to the model when any
// of them fails. A finish claim is accepted only when every gate passes.
// Limits (steps, tokens, cost, wall time), interrupts, the ledger and the
// event stream are handled here too, so the loop itself stays small.
//
// Thread-safety: one policy per agent; Interrupt() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "tandem/agent/review.h"
#include "tandem/agent/turn_loop.h"
#include "tandem/config/config.h"
#include "tandem/ledger/ledger.h"
#include "tandem/protocol/event.h"
#include "tandem/tools/toolbox.h"
#include "tandem/verify/gate.h"
#include "tandem/verify/gate_cache.h"
#include "tandem/workspace/workspace.h"

namespace tandem::agent {

struct VerifiedStepDeps {
  workspace::Workspace* workspace = nullptr;  // REQUIRED, with an active run
  const tools::ToolBox* toolbox = nullptr;    // REQUIRED
  ledger::Ledger* ledger = nullptr;           // optional
  verify::GateCache* gate_cache = nullptr;    // optional
  protocol::EventSink* events = nullptr;      // REQUIRED
  // Optional: steering notes a person added while the task runs. Called
  // after each step that continues, with that step's ledger id (if any); the
  // returned text (empty: none) is appended to the step's feedback, so it
  // reaches the next model call. The callee marks the notes delivered.
  std::function<std::string(std::optional<ledger::StepId>)> pending_notes;
  // Review before done (review.h): when due, a finish whose gates pass goes
  // to the reviewer; a request for changes is a failed gate.
  ReviewSetup review;
  // Optional: set once an irreversible command ran in the task (review
  // policy `irreversible`).
  const std::atomic<bool>* irreversible_command_ran = nullptr;
};

struct VerifiedStepOptions {
  protocol::EventScope scope;
  config::Limits limits;
  config::Guardrails guardrails;
  std::vector<verify::Gate> gates;
  config::ModelConfig model;  // prices, for cost and the cost limit
  std::string model_name;
  std::string provider;
  std::string role = "executor";
  workspace::CheckpointId base;  // the run's checkpoint 0 (task-level diff caps)
  // Where the task's change starts for its review (an escalated task runs
  // again on top of its earlier attempts' changes); nullopt: `base`.
  std::optional<workspace::CheckpointId> review_base;
  // Files tandem itself updates while a step runs (`tandem run`: plan.md and
  // progress.md, for steer and approval notes). Unless a file tool of the step
  // wrote them, a step's guardrails, caps and rollback leave them out: a
  // person's note is neither blamed on the model nor undone with its step.
  std::vector<std::string> tandem_files;
  // For the reviewer: the task as the executor got it, and the root whose
  // AGENTS.md files apply to the changed paths.
  std::string task_text;
  std::string repo_root;
};

// Totals of a run, for the summary line, the ledger and limits.
struct RunTotals {
  int steps = 0;
  int retries = 0;  // rollbacks and rejected finish claims
  protocol::Usage usage;
  double cost_usd = 0;
  double model_ms = 0;
  double tool_ms = 0;
  double gate_ms = 0;
  int lines_changed = 0;
  int files_changed = 0;
  int reviews = 0;             // reviewer verdicts asked for
  double review_cost_usd = 0;  // their cost (not in cost_usd, the executor's)
  double review_ms = 0;        // time waiting for them (also in model_ms)
};

class VerifiedStepPolicy : public StepPolicy {
 public:
  VerifiedStepPolicy(VerifiedStepDeps deps, VerifiedStepOptions options);

  std::optional<std::string> BeginStep(int step) override;
  void OnReply(const protocol::ModelResponse& reply) override;
  StepOutcome RunStep(int step, const std::vector<protocol::ToolCall>& calls) override;
  StepOutcome OnTextOnly(int step, const std::string& text) override;

  // Stops the run at the next safe point; a running command or gate is
  // killed, and one waiting for a job token stops waiting.
  void Interrupt() { stop_.request_stop(); }
  bool interrupted() const { return stop_.stop_requested(); }

  // Why the run had to stop on an error tandem cannot work around, or "".
  // One policy for what the steps depend on: a ledger row a resume needs
  // (a step's start or end), a checkpoint, a diff, a rollback or the final
  // scan failing stops the run here, with the step's ledger row left
  // 'running' so the next tandem command rolls the step back. A ledger row
  // that only records what happened (model, tool and gate calls, rollbacks)
  // failing is a warning notice, and the run goes on.
  const std::string& error() const { return error_; }
  // True when error() left a step's ledger row 'running': the run must then
  // not be ended in the ledger (EndRun would close the step), so that the
  // next tandem command finds it as it would after a crash and rolls it back.
  bool step_left_running() const { return step_left_running_; }

  const RunTotals& totals() const { return totals_; }
  // The last review's result (approve: its commit message), if any.
  const std::optional<ReviewResult>& last_review() const { return last_review_; }
  // The commit `tandem run --commit` made of the task's change ("": none).
  const std::string& commit() const { return commit_; }
  // When the task failed: the ref holding its best attempt (may be empty).
  const std::string& best_attempt_ref() const { return best_attempt_ref_; }
  // The checkpoint of the current (verified) state.
  std::optional<workspace::CheckpointId> last_checkpoint() const {
    return deps_.workspace->last_checkpoint();
  }

  // Outside the turn loop: every gate (the final round) on the tree of
  // `checkpoint`, recorded against ledger step `step` (a step the caller
  // began), published as gate events. Empty when all passed, else the
  // failures' excerpts (the feedback a model would get).
  struct GateCheck {
    bool passed = true;
    std::string feedback;
  };
  GateCheck CheckFinalGates(const workspace::CheckpointId& checkpoint, ledger::StepId step);

 private:
  struct GateRound {
    bool passed = true;
    int failures = 0;
    std::string feedback;  // failing gates' excerpts, for the model
    std::string reason;    // "gate 'test' failed"
    std::string summary;   // a line per gate: "- test: pass"
  };

  void Publish(protocol::EventPayload payload);
  // Runs `phase` gates on the tree of `checkpoint`.
  GateRound RunGateRound(verify::GateWhen phase, const workspace::CheckpointId& checkpoint);
  // A guardrail the step's changes break, or "" when none.
  std::string CheckGuardrails(const std::vector<workspace::FileChange>& step_changes);
  // Rolls back to `before` at `touched`; returns the feedback for the model.
  std::string RollBack(int step, const workspace::CheckpointId& before,
                       const workspace::TouchedPaths& touched, const std::string& reason);
  // The verdict on a finish claim (final gates on the current tree).
  StepOutcome JudgeFinish(int step, const std::string& summary, StepOutcome outcome);
  // A finish whose gates passed: done, unless a review is due and does not
  // approve. `gates` is the final round's summary.
  StepOutcome ReviewOrDone(const std::string& summary, StepOutcome outcome,
                           const std::string& gates);
  // `tandem run --commit`: commits an approved change of `paths`; a refusal
  // is a failed gate.
  StepOutcome Commit(StepOutcome outcome, const ReviewResult& review,
                     const std::vector<std::string>& paths);
  // Records error() (the first cause wins) and publishes it.
  void Abort(std::string why);
  // Stops a step that Abort() was called in.
  StepOutcome StopIfAborted(StepOutcome outcome);
  // Begins the step's ledger row; false (after Abort) when it cannot be written.
  bool StartLedgerStep(const std::optional<workspace::CheckpointId>& before);
  // A warning notice when a ledger row that only records history failed.
  void Recorded(const Status& status, std::string_view what);
  bool RetryBudgetSpent() const { return totals_.retries > options_.limits.step_retries; }
  StepOutcome Fail(StepOutcome outcome, const std::string& why);
  // RunStep without steering; RunStep adds pending notes to its outcome.
  StepOutcome RunStepUnsteered(int step, const std::vector<protocol::ToolCall>& calls);
  // Appends deps_.pending_notes() to a continuing outcome's feedback.
  StepOutcome DeliverSteer(StepOutcome outcome);
  void RecordModelCall();
  // Tells the user, once per gate, what its verify.md grants widen.
  void AnnounceGrants(const verify::Gate& gate);
  void EndLedgerStep(ledger::StepState state, int lines, int files, const std::string& note);

  VerifiedStepDeps deps_;
  VerifiedStepOptions options_;
  RunTotals totals_;
  std::stop_source stop_;  // Interrupt(); thread-safe
  std::string error_;  // see error()
  bool step_left_running_ = false;
  std::chrono::steady_clock::time_point started_;
  std::optional<protocol::ModelResponse> last_reply_;
  bool ran_command_ = false;      // a step ran a command: the finish rescans
  std::set<std::string> announced_grants_;  // gates whose grants were announced
  double decision_cost_usd_ = 0;  // slow-tier reviews of irreversible commands
  double human_wait_ms_ = 0;      // a person deciding them
  std::optional<ledger::StepId> ledger_step_;
  std::optional<ledger::StepId> last_ledger_step_;  // the step EndLedgerStep ended last
  int attempt_ = 1;
  // Best failed attempt so far: the state with the fewest failing gates.
  std::optional<workspace::CheckpointId> best_attempt_;
  int best_attempt_failures_ = 1 << 30;
  std::string best_attempt_ref_;
  std::vector<std::string> review_reasons_;  // earlier reviews' requests, for the next review
  std::optional<ReviewResult> last_review_;
  std::string commit_;
};

}  // namespace tandem::agent
