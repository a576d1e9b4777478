// The reviewer role's review of a task's change (review before done): the
// TaskReviewer that agent::VerifiedStepPolicy calls when a finish's gates
// pass and review.policy wants a review (agent/review.h). One model call
// on the reviewer's model with one tool, `review_verdict`; the verdict is
// that tool call's arguments, never free text:
//
//   {"verdict": "approve" | "request_changes",
//    "reasons": ["..."],                               (request_changes: at least one)
//    "places": [{"path": "src/a.cc", "line": 12, "note": "..."}],
//    "commit_subject": "...", "commit_body": "..."}    (approve: the commit message)
//
// A reply without the call is asked once more; then, like a failed call,
// the result is ReviewVerdict::kError with the reason.
//
// Thread-safety: ReviewTask calls the model on the calling thread; the
// returned TaskReviewer may be called from any agent's thread (the client
// and the ledger are thread-safe).
#pragma once

#include <optional>
#include <string>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/review.h"
#include "tandem/config/config.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/protocol/event.h"

namespace tandem::orchestrator {

struct TaskReviewerEnv {
  ModelSlot model;                            // the reviewer role's model
  protocol::EventSink* events = nullptr;      // REQUIRED
  ledger::Ledger* ledger = nullptr;           // optional: the model call is recorded
  agent::InterruptHub* interrupts = nullptr;  // optional: Ctrl-C cancels the review
};

const std::string& TaskReviewSystemPrompt();
// The one tool the reviewer answers through.
const protocol::ToolSpec& ReviewVerdictTool();

// The verdict in a review_verdict call's arguments. A missing or unknown
// verdict, or request_changes without a reason, is kError naming what was
// wrong. Commit subjects are cut to one line under 72 characters.
agent::ReviewResult ParseReviewVerdict(const nlohmann::json& arguments);

// The review's user message (task, acceptance, summary, gates, AGENTS.md,
// earlier reasons, the diff).
std::string ReviewMessage(const agent::ReviewRequest& request);

// Asks the reviewer; never fails (no verdict is kError with the reason).
agent::ReviewResult ReviewTask(const TaskReviewerEnv& env, const agent::ReviewRequest& request);

// When and by whom a task's change is reviewed: `task_policy` (plan.md's
// `review:`) or else review.policy; `irreversible_task` when plan.md marks
// the task irreversible. No reviewer client: never reviewed. With
// commit.enabled (`tandem run --commit`) every change is reviewed and an
// approved one committed in `repo_root` (task_commit.h).
agent::ReviewSetup ReviewSetupForTask(const config::Config& config, const std::string& repo_root,
                                      const std::string& task_id,
                                      const std::optional<protocol::ReviewPolicy>& task_policy,
                                      bool irreversible_task, TaskReviewerEnv reviewer);

}  // namespace tandem::orchestrator
