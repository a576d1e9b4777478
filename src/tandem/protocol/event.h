// Events published by the agent loop and the orchestrator, and the ops that
// come back in. The core never prints: front ends (terminal, --json JSONL,
// ledger recorder, dashboard) subscribe to one stream of these values.
// States, verdicts, decisions and outcomes are the shared vocabulary's enums
// (vocabulary.h); JSON spells them with protocol::Name. docs/EVENTS.md
// documents the JSON form of every event.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tandem/protocol/model.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::protocol {

// Which run, task and agent an event belongs to (many agents share a process).
struct EventScope {
  std::string run_id;
  std::string task_id;   // empty for `tandem do`'s single task
  std::string agent_id;  // e.g. "executor", "variant-3"
};

struct RunStarted {
  std::string kind;  // "do", "run"
  std::string goal;
  std::string repo;
  std::string model;
  std::string gates_source;  // "verify.md" or what was detected
  int64_t first_request_tokens = 0;  // estimated size of the first prompt; 0: none yet
};
struct StepStarted {
  int step = 0;     // 1-based
  int attempt = 1;  // >1 after a rollback
};
struct ModelDelta {  // streamed assistant text
  std::string text;
};
struct ModelRestarted {  // a retried request: discard the partial text shown so far
  std::string reason;
  int attempt = 0;
  int delay_ms = 0;
};
struct ModelCallFinished {
  std::string model;
  Usage usage;
  Timings timings;
  double cost_usd = 0;
  int retries = 0;
};
struct ToolStarted {
  std::string id;
  std::string name;
  std::string summary;  // one line: "edit_file src/a.cc"
};
struct ToolFinished {
  std::string id;
  std::string name;
  ToolOutcome outcome = ToolOutcome::kOk;
  std::string detail;   // one line for humans
  double duration_ms = 0;
};
struct CheckpointTaken {
  std::string checkpoint;  // the commit id
  std::string label;       // "step 3", "final scan"
  int files_changed = 0;   // since the checkpoint before it
  double duration_ms = 0;
};
struct GateFinished {
  std::string gate;
  Verdict verdict = Verdict::kPass;
  bool cached = false;
  double duration_ms = 0;
  std::string excerpt;  // failing output excerpt (empty on pass)
};
struct StepRolledBack {
  int step = 0;
  std::string reason;  // "gate 'test' failed", "diff cap: 512 lines > 400"
  int retries_left = 0;
};
struct StepFinished {
  int step = 0;
  bool edited = false;
  int lines_changed = 0;
  int files_changed = 0;
};
struct Notice {
  NoticeLevel level = NoticeLevel::kInfo;
  std::string text;
};
struct RunFinished {
  Outcome outcome = Outcome::kSucceeded;
  std::string summary;  // the model's summary or the failure reason
  int steps = 0;
  int retries = 0;
  Usage usage;
  double cost_usd = 0;
  double wall_ms = 0;
  double model_ms = 0;
  double tool_ms = 0;
  double gate_ms = 0;
  double harness_ms = 0;  // wall - model - tools - gates - human: tandem's own time
  double human_ms = 0;    // waiting for a person (approval prompts)
  std::string best_attempt_ref;  // set when a failed task kept its best attempt
};

// Orchestrator events (`tandem run`): the task is the event's scope.task_id.
struct TaskStarted {
  std::string title;
  std::string tier;   // "executor" or the slow tier's role ("reviewer", "planner")
  std::string model;  // the model name that executes it
  int attempt = 1;    // >1 when the task runs again (escalated, rewritten)
};
struct TaskFinished {
  TaskEnd state = TaskEnd::kDone;
  std::string summary;  // the executor's summary or why it ended so
  int retries = 0;
};
struct ApprovalRequested {
  int64_t approval_id = 0;  // answer it with an approve/deny op of this id (0: not answerable)
  std::string what;     // exactly what will run: the task text, scope, checks; or the command
  std::string why;      // why it needs approval
  std::string command;  // set when one command of a running task needs approval
};
struct ApprovalDecided {
  int64_t approval_id = 0;  // as in ApprovalRequested
  ApprovalDecision decision = ApprovalDecision::kDenied;
  DecidedBy decided_by = DecidedBy::kPolicy;
  int64_t waited_ms = 0;
  std::string reason;
  std::string command;  // as in ApprovalRequested
};
struct Escalated {
  EscalationAction action = EscalationAction::kRewrite;
  std::string from_tier;
  std::string to_tier;
  std::string reason;
};
// The reviewer's verdict on a task's change (review before done).
struct ReviewFinished {
  int review = 1;  // the task's 1st, 2nd, ... review
  ReviewVerdict verdict = ReviewVerdict::kApprove;
  std::string reasons;  // request_changes: what to change, a line each (places as path:line)
  std::string model;
  Usage usage;
  double cost_usd = 0;
  double wait_ms = 0;
};
struct SteerDelivered {
  std::string note;
  std::string where;  // "task" (the task's first message) or "step" (the next step)
};

using EventPayload =
    std::variant<RunStarted, StepStarted, ModelDelta, ModelRestarted, ModelCallFinished,
                 ToolStarted, ToolFinished, CheckpointTaken, GateFinished, StepRolledBack,
                 StepFinished, Notice, RunFinished, TaskStarted, TaskFinished, ApprovalRequested,
                 ApprovalDecided, Escalated, SteerDelivered, ReviewFinished>;

struct Event {
  EventScope scope;
  int64_t at_ms = 0;  // wall clock, ms since epoch
  EventPayload payload;
};

// Stable event type names for JSONL ("run_started", ...).
const char* EventTypeName(const EventPayload& payload);

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called synchronously on the publishing thread; must not block for long.
  virtual void Publish(const Event& event) = 0;
};

}  // namespace tandem::protocol
