// The rows `tandem stats` reads from the ledger, reduced to the columns the
// metrics need. ReadLedgerFacts (read_facts.h) fills them with read-only SQL;
// ComputeReport (compute.h) is a pure function of them, so every figure can
// be checked against rows written by hand. Definitions: docs/METRICS.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::metrics {

// runs: one row per run in the window.
struct RunFact {
  std::string id;
  std::string kind;     // do, run, demo, plan, undo, ...
  std::string outcome;  // running, succeeded, failed, interrupted, cancelled
  int64_t started_at = 0;
  std::optional<int64_t> ended_at;
};

// tasks: one row per (run_id, task_id).
struct TaskFact {
  std::string run_id;
  std::string task_id;
  std::string tier;
  std::string state;     // pending, running, done, failed, skipped, waiting_approval
  int64_t attempts = 0;  // tries of the whole task, kept by the orchestrator
};

// steps grouped by (run_id, task_id); task_id is "" for steps outside a task.
struct StepGroupFact {
  std::string run_id;
  std::string task_id;
  int64_t steps = 0;
  // Σ max(0, attempt - previous attempt) over the steps in order of n (the
  // first step's "previous" is 1): steps.attempt goes up by one after each
  // rollback, and back to 1 when the orchestrator tries a task afresh.
  int64_t attempt_increases = 0;
  int64_t rollbacks = 0;  // rollbacks of these steps
};

// model_calls, with the task of the call's step ("" when none).
struct ModelCallFact {
  std::string run_id;
  std::string task_id;
  std::string provider;
  std::string model;
  std::string role;
  std::string tier;
  int64_t tokens_in = 0;  // all prompt tokens, cached ones included
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  double cost_usd = 0;
  int64_t ttft_ms = 0;
  int64_t duration_ms = 0;
  bool error = false;  // error_kind IS NOT NULL
};

// Durations summed per run: tool_calls (via steps) and gate_runs.
struct RunTimeFact {
  std::string run_id;
  int64_t tool_ms = 0;
  int64_t gate_ms = 0;  // executions only: verdict != 'cached'
  int64_t gate_cache_hits = 0;
};

// approvals, with the task taken from the step when task_id is NULL.
struct ApprovalFact {
  std::string run_id;
  std::string task_id;
  std::string decision;    // approved, denied
  std::string decided_by;  // person, policy
  int64_t waited_ms = 0;
};

struct EscalationFact {
  std::string run_id;
  std::string task_id;
  std::string from_tier;
  std::string to_tier;
};

// steer_notes, with the task of the step that carried the note ("" while
// undelivered or when that step had no task).
struct SteerNoteFact {
  std::string run_id;
  std::string task_id;
  bool delivered = false;
};

// variants of fan-out runs (docs/LEDGER.md `variants`).
struct VariantFact {
  std::string run_id;
  std::string state;  // running, passed, failed, cancelled, interrupted, error
  double cost_usd = 0;
};

// picks among a fan-out's variants.
struct PickFact {
  std::string run_id;
  std::optional<int64_t> rank;
  bool applied = false;
  int64_t waited_ms = 0;
};

// reviews, in the order they were made.
struct ReviewFact {
  std::string run_id;
  std::string task_id;
  std::string verdict;  // approve, request_changes, error
  double cost_usd = 0;
};

struct LedgerFacts {
  std::vector<RunFact> runs;
  std::vector<TaskFact> tasks;
  std::vector<StepGroupFact> step_groups;
  std::vector<ModelCallFact> model_calls;
  std::vector<RunTimeFact> run_times;
  std::vector<ApprovalFact> approvals;
  std::vector<EscalationFact> escalations;
  std::vector<SteerNoteFact> steer_notes;
  std::vector<VariantFact> variants;  // of the window's fan-out runs
  std::vector<PickFact> picks;        // of the window's fan-out runs
  std::vector<ReviewFact> reviews;
};

}  // namespace tandem::metrics
