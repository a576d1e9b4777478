// The slow tier's review of one command: during `tandem run`, an executor's
// run_command that the classifier marks irreversible goes to the slow tier
// before any person is asked (policy.h). The slow tier gets a short request
// (the task, the command, the classifier's reason) and answers in plain
// text, the verdict first:
//
//   RUN: <why it is needed and safe enough>
//   REFUSE: <why not, and what the executor should do instead>
//
// Anything else (no keyword, an empty answer, a failed model call) is a
// refusal: only an explicit RUN lets the command go on to approval.
//
// Thread-safety: plain functions; ReviewCommand calls the model on the
// calling thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tandem/agent/interrupt.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/protocol/event.h"

namespace tandem::orchestrator {

struct CommandReviewRequest {
  std::string run_id;
  std::string task_id;
  std::string task;     // the task as the executor got it (id, title, what)
  std::string command;  // exactly what would run
  std::string why;      // the classifier's reason
};

struct CommandReview {
  bool run = false;
  std::string reason;
  double model_ms = 0;  // the review call's duration
  protocol::Usage usage;
  double cost_usd = 0;
};

struct ReviewerEnv {
  ModelSlot model;                        // the slow tier
  std::string role;                       // recorded for the model call ("reviewer", "planner")
  protocol::EventSink* events = nullptr;  // REQUIRED
  ledger::Ledger* ledger = nullptr;       // optional: the call is recorded
  std::optional<ledger::StepId> step;     // the executor step that asked
  agent::InterruptHub* interrupts = nullptr;  // optional: Ctrl-C cancels the review
};

const std::string& CommandReviewSystemPrompt();

// Parses a review answer: the first non-blank line must start with RUN or
// REFUSE (any case, then optionally ':' or '-' and the reason). Anything
// else is a refusal saying the answer was garbled.
CommandReview ParseCommandReview(std::string_view answer);

// Asks the slow tier; never fails (a failed call is a refusal naming why).
CommandReview ReviewCommand(const ReviewerEnv& env, const CommandReviewRequest& request);

}  // namespace tandem::orchestrator
