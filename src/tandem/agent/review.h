// Review before done: what the verified loop hands the reviewer role when a
// task's gates pass, and what comes back. The loop (VerifiedStepPolicy)
// decides whether a review is due (ReviewDue) and treats a request for
// changes like a failed gate; who reviews and how (a model call with a
// tool-call verdict, the ledger row, the event) is the TaskReviewer the
// caller supplies (orchestrator/task_review.h).
//
// Thread-safety: plain data and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tandem/ledger/ledger.h"
#include "tandem/protocol/model.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::agent {

// What the reviewer sees.
struct ReviewRequest {
  std::string run_id;
  std::string task_id;
  std::string task;           // the task as the executor got it, with its acceptance
  std::string summary;        // the executor's finish summary
  std::string diff;           // the task's change (unified diff, capped)
  std::string gates;          // the final gates' results, one line each
  std::string agents_md;      // AGENTS.md parts for the changed paths
  std::vector<std::string> earlier_reasons;  // what earlier reviews of this task asked
  int review = 1;             // 1 for the task's first review
  int lines_changed = 0;
  int files_changed = 0;
  std::optional<ledger::StepId> step;  // the step whose finish is reviewed
};

// A place a reason refers to.
struct ReviewPlace {
  std::string path;
  int line = 0;  // 0: the whole file
  std::string note;
};

struct ReviewResult {
  protocol::ReviewVerdict verdict = protocol::ReviewVerdict::kError;
  std::vector<std::string> reasons;  // request_changes: what to change (error: why no verdict)
  std::vector<ReviewPlace> places;
  std::string commit_subject;  // the reviewer's commit message (approve)
  std::string commit_body;
  std::string model;  // the reviewer's model name
  protocol::Usage usage;
  double cost_usd = 0;
  double wait_ms = 0;  // how long the task waited for the review
};

using TaskReviewer = std::function<ReviewResult(const ReviewRequest&)>;

// `tandem run --commit`: the commit of an approved change.
struct CommitOutcome {
  bool committed = false;
  std::string commit;  // the new commit's id
  std::string output;  // why not (the hook's or git's output, redacted and capped)
};
// Commits exactly `paths` (the task's changed files) on the current branch
// with the reviewer's message in `review`.
using TaskCommitter =
    std::function<CommitOutcome(const ReviewResult& review, const std::vector<std::string>& paths)>;

// When a task's change is reviewed (TaskEnv::review).
struct ReviewSetup {
  TaskReviewer reviewer;  // empty: never reviewed
  protocol::ReviewPolicy policy;
  int64_t large_lines = 200;      // review.large_lines
  bool irreversible_task = false;  // plan.md marks the task irreversible
  // Optional: commits every approved change; then every change is reviewed
  // (the reviewer writes the message), and a failed commit (a pre-commit
  // hook that refuses it) is a failed gate.
  TaskCommitter commit;
};

// Whether `setup` wants a review of a change of `lines_changed` lines, given
// whether an irreversible command ran during the task.
bool ReviewDue(const ReviewSetup& setup, int64_t lines_changed, bool irreversible_command_ran);

// The feedback the executor gets for a request for changes: every reason
// with its places, and what to do.
std::string ReviewFeedback(const ReviewResult& review);

}  // namespace tandem::agent
