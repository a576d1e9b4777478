// The shared vocabulary: every state, risk, verdict, decision, outcome and
// exit code that more than one part of tandem speaks of, defined once.
// plan.md, the ledger, the agent loop, the orchestrator and the events all use
// these enums; each value has one spelling (Name), which is what events'
// JSON, the ledger's columns and `tandem stats --json` show. Parse* reads a
// spelling back (also the few older spellings a ledger written by an earlier
// version holds) and fails with InvalidArgument naming the value.
//
// Thread-safety: constants and pure functions only.
#pragma once

#include <string>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::protocol {

// A plan task's state; plan.md shows it as a checkbox (memory/plan_md.h).
enum class TaskState { kPending, kRunning, kDone, kFailed, kSkipped, kWaiting };
// Routing class: reversible work goes to the fast tier; irreversible work to
// the slow tier and a person.
enum class Risk { kReversible, kIrreversible };
// How a run ended in the ledger (kRunning while it goes on).
enum class RunOutcome { kRunning, kSucceeded, kFailed, kInterrupted, kCancelled };
// How one task (or `tandem do`'s run) ended, as events and exit codes see it.
enum class Outcome { kSucceeded, kFailed, kLimit, kInterrupted, kProviderError, kError };
// How one attempt at a plan task ended (event task_finished); kInterrupted
// tasks go back to pending and run again.
enum class TaskEnd { kDone, kFailed, kSkipped, kWaiting, kInterrupted };
// A recorded step of the verified loop.
enum class StepState { kRunning, kDone, kRolledBack, kInterrupted };
// A tool call: kRefused = blocked by policy.
enum class ToolOutcome { kOk, kError, kRefused };
// A gate: kFail = the command said no; kError = no answer (could not start,
// timed out, cancelled, or a gate it runs after did not pass).
enum class Verdict { kPass, kFail, kError };
enum class ApprovalDecision { kApproved, kDenied };
enum class DecidedBy { kPerson, kPolicy, kSlowTier };
// What the planner decided for a failed task: rewrite it, split it, or hand
// it to the slow tier.
enum class EscalationAction { kRewrite, kSplit, kSlowTier };
enum class NoticeLevel { kInfo, kWarn, kError };
// An input to a live run (orchestrator/ops.h): answer an approval by id,
// a steer note, stop the whole run, or cancel one task.
enum class OpKind { kApprove, kDeny, kSteer, kInterrupt, kCancel };
// The reviewer's verdict on a task's change (a tool call, never free text);
// kError: no verdict (the call failed, or it answered without the tool).
enum class ReviewVerdict { kApprove, kRequestChanges, kError };
// One variant of a fan-out (`tandem do --variants N`, a plan task's
// `variants: N`; orchestrator/fanout.h): kPassed = its final tree passed the
// gates and changed something; kCancelled = stopped by --stop-after or the
// fan-out's budget; kInterrupted = Ctrl-C or a killed process.
enum class VariantState { kRunning, kPassed, kFailed, kCancelled, kInterrupted, kError };
// Who decided a comparison of a fan-out's tournament (orchestrator/
// tournament.h): the reviewer model's compare_verdict, or, without one (the
// call failed, twice no tool call, the budget spent, interrupted), the
// score (the better seed advances).
enum class ComparisonDecider { kReviewer, kScore };
// When the reviewer reads a task's change before it counts as done
// (`review.policy`, plan.md's `review:`): a set of these.
enum class ReviewWhen { kNever, kIrreversible, kLarge, kAlways };

// A review.policy value: which ReviewWhen hold. Written as one name or a
// list joined by ',' or '+' ("irreversible,large", "irreversible+large"),
// or a TOML array of names; `never` stands alone.
struct ReviewPolicy {
  bool irreversible = true;  // tasks and commands the classifier marks irreversible
  bool large = true;         // a change over review.large_lines
  bool always = false;

  bool never() const { return !irreversible && !large && !always; }
  friend bool operator==(const ReviewPolicy&, const ReviewPolicy&) = default;
};

// Process exit codes, documented in docs/EVENTS.md ("Exit codes").
enum ExitCode : int {
  kExitSuccess = 0,
  kExitTaskFailed = 1,     // the task ended without passing verification (or hit a limit)
  kExitUsage = 2,          // bad command line or configuration
  kExitProvider = 3,       // the model provider failed (auth, network, retries exhausted)
  kExitInternal = 4,       // tandem itself failed (disk, git, ledger)
  kExitBusy = 5,           // another tandem process is writing this repository; nothing ran
  kExitInterrupted = 130,  // Ctrl-C
};

// "pending" "running" "done" "failed" "skipped" "waiting"
std::string_view Name(TaskState v);
// "reversible" "irreversible"
std::string_view Name(Risk v);
// "running" "succeeded" "failed" "interrupted" "cancelled"
std::string_view Name(RunOutcome v);
// "succeeded" "failed" "limit" "interrupted" "provider_error" "error"
std::string_view Name(Outcome v);
// "done" "failed" "skipped" "waiting" "interrupted"
std::string_view Name(TaskEnd v);
// "running" "done" "rolled_back" "interrupted"
std::string_view Name(StepState v);
// "ok" "error" "refused"
std::string_view Name(ToolOutcome v);
// "pass" "fail" "error"
std::string_view Name(Verdict v);
// "approved" "denied"
std::string_view Name(ApprovalDecision v);
// "person" "policy" "slow_tier"
std::string_view Name(DecidedBy v);
// "replan" "split" "escalate" (the spellings docs/EVENTS.md has always used)
std::string_view Name(EscalationAction v);
// "info" "warn" "error"
std::string_view Name(NoticeLevel v);
// "approve" "deny" "steer" "interrupt" "cancel"
std::string_view Name(OpKind v);
// "approve" "request_changes" "error"
std::string_view Name(ReviewVerdict v);
// "never" "irreversible" "large" "always"
std::string_view Name(ReviewWhen v);
// "running" "passed" "failed" "cancelled" "interrupted" "error"
std::string_view Name(VariantState v);
// "reviewer" "score"
std::string_view Name(ComparisonDecider v);
// "never", "always", "irreversible", "large" or "irreversible,large".
std::string Name(const ReviewPolicy& v);

Result<TaskState> ParseTaskState(std::string_view s);  // also "waiting_approval"
Result<Risk> ParseRisk(std::string_view s);
Result<RunOutcome> ParseRunOutcome(std::string_view s);
Result<StepState> ParseStepState(std::string_view s);
Result<Verdict> ParseVerdict(std::string_view s);
Result<ApprovalDecision> ParseApprovalDecision(std::string_view s);
Result<DecidedBy> ParseDecidedBy(std::string_view s);
Result<EscalationAction> ParseEscalationAction(std::string_view s);
Result<OpKind> ParseOpKind(std::string_view s);
Result<ReviewVerdict> ParseReviewVerdict(std::string_view s);
Result<VariantState> ParseVariantState(std::string_view s);
Result<ComparisonDecider> ParseComparisonDecider(std::string_view s);
// One name or a list ("irreversible,large", "irreversible + large"); the
// error names the unknown value, or says `never` cannot be combined.
Result<ReviewPolicy> ParseReviewPolicy(std::string_view list);

// The exit code of a task's or run's outcome.
ExitCode ExitCodeFor(Outcome outcome);

}  // namespace tandem::protocol
