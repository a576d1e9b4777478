// Plain data for the ledger: the enums whose names are the values stored in
// SQL (and shown by `tandem stats --json`), and the structs that record
// functions take and queries return. Timestamps are integer milliseconds
// since the Unix epoch; durations are milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/base/status.h"
#include "tandem/ledger/process_identity.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::ledger {

// The vocabulary is protocol's (vocabulary.h); the columns store
// protocol::Name's spelling, except two kept from schema v1: a task waiting
// for approval is 'waiting_approval', and a gate row served from the cache
// has the verdict 'cached' (GateVerdict below).
using protocol::ApprovalDecision;
using protocol::DecidedBy;
using protocol::EscalationAction;
using protocol::Risk;
using protocol::RunOutcome;
using protocol::StepState;
using protocol::TaskState;
using protocol::ToolOutcome;
// A gate_runs row: a protocol::Verdict, or a cache hit.
enum class GateVerdict { kPass, kFail, kError, kCached };

// The column spelling of each value.
std::string_view ToString(RunOutcome v);
std::string_view ToString(Risk v);
std::string_view ToString(TaskState v);
std::string_view ToString(StepState v);
std::string_view ToString(ToolOutcome v);
std::string_view ToString(GateVerdict v);
std::string_view ToString(ApprovalDecision v);
std::string_view ToString(DecidedBy v);
std::string_view ToString(EscalationAction v);

// Parses the column spelling; InvalidArgument for anything else.
Result<GateVerdict> ParseGateVerdict(std::string_view s);
using protocol::ParseRunOutcome;
using protocol::ParseStepState;
using protocol::ParseTaskState;

using StepId = int64_t;

// Per-run totals. Unless the caller supplies them at EndRun, they are derived
// from the run's rows: steps = count of steps, retries = steps with
// attempt > 1, tokens/cost/model_ms from model_calls, tool_ms from
// tool_calls, gate_ms from gate_runs (a sum: parallel gates overlap),
// human_ms from approvals.waited_ms, wall_ms = ended_at - started_at.
struct RunTotals {
  int64_t steps = 0;
  int64_t retries = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  double cost_usd = 0;
  int64_t wall_ms = 0;
  int64_t model_ms = 0;
  int64_t tool_ms = 0;
  int64_t gate_ms = 0;
  int64_t human_ms = 0;
};

struct RunStart {
  std::string id{};    // caller-chosen, unique (e.g. "20250101-120000-ab12")
  std::string kind{};  // "do", "run", "plan", "resume", "demo", ...
  std::string goal{};
  std::string repo{};  // absolute path of the repository root
  std::string base_checkpoint{};
  // The process that owns the run; empty means the calling process.
  std::optional<ProcessIdentity> owner{};
};

struct RunEnd {
  RunOutcome outcome = RunOutcome::kSucceeded;
  int exit_code = 0;
  std::string final_checkpoint{};
  std::optional<RunTotals> totals{};  // empty: derived from the run's rows
};

struct RunRow {
  std::string id{};
  std::string kind{};
  std::string goal{};
  std::string repo{};
  int64_t started_at = 0;
  std::optional<int64_t> ended_at{};
  RunOutcome outcome = RunOutcome::kRunning;
  std::optional<int64_t> exit_code{};
  std::string base_checkpoint{};
  std::string final_checkpoint{};
  ProcessIdentity owner{};
  RunTotals totals{};  // as stored: zero until EndRun
};

// UpsertTask's input and ListTasks' output. started_at / ended_at are
// stamped by the ledger: started_at the first time the state is `running`,
// ended_at when it becomes done, failed or skipped.
struct TaskRow {
  std::string run_id{};
  std::string task_id{};
  std::string title{};
  Risk risk = Risk::kReversible;
  std::string tier{};  // "executor", "planner", ... (a configured role name)
  TaskState state = TaskState::kPending;
  int64_t attempts = 0;
  std::optional<int64_t> started_at{};
  std::optional<int64_t> ended_at{};
  std::string outcome_detail{};
};

struct StepStart {
  std::string run_id{};
  std::string task_id{};  // empty: the step belongs to no task (NULL)
  int64_t attempt = 1;    // 1 for the first try, 2 for the first retry, ...
  std::string checkpoint_before{};
};

struct StepEnd {
  StepState state = StepState::kDone;
  std::string checkpoint_after{};
  int64_t lines_changed = 0;
  int64_t files_changed = 0;
  std::string note{};
};

struct StepRow {
  StepId id = 0;
  std::string run_id{};
  std::string task_id{};
  int64_t n = 0;  // 1-based position of the step in its run
  int64_t attempt = 1;
  int64_t started_at = 0;
  std::optional<int64_t> ended_at{};
  StepState state = StepState::kRunning;
  std::string checkpoint_before{};
  std::string checkpoint_after{};
  int64_t lines_changed = 0;
  int64_t files_changed = 0;
  std::string note{};
};

// One model request. run_id may be left empty when step_id is set (it is
// taken from the step); a call outside any step (planning) sets run_id only.
struct ModelCallRecord {
  std::string run_id{};
  std::optional<StepId> step_id{};
  std::string role{};  // "planner", "executor", "reviewer", ...
  std::string tier{};
  std::string provider{};
  std::string model{};
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  int64_t cache_write = 0;
  double cost_usd = 0;
  int64_t ttft_ms = 0;
  int64_t duration_ms = 0;
  double tokens_per_s = 0;  // 0: derived by tandem::ReplyTokensPerSecond (0 if too short)
  int64_t retries = 0;
  std::string error_kind{};  // empty when the call succeeded
};

// One successful model call as routing by measured speed reads it
// (providers/routing.h SpeedBook, `tandem models`).
struct ModelSpeedRow {
  std::string provider{};
  std::string model{};  // the id sent on the wire
  std::string role{};
  int64_t tokens_in = 0;  // cached ones included
  int64_t tokens_cached = 0;
  int64_t tokens_out = 0;
  int64_t ttft_ms = 0;
  int64_t duration_ms = 0;
  int64_t at = 0;
};

struct ToolCallRecord {
  StepId step_id = 0;
  std::string name{};
  std::string args_summary{};  // redacted and truncated to 512 bytes by the ledger
  ToolOutcome outcome = ToolOutcome::kOk;
  int64_t duration_ms = 0;
  std::string detail{};  // redacted and truncated to 2 KiB by the ledger
};

// A gate execution (or a cache hit, verdict kCached). run_id may be empty
// when step_id is set; end-of-task gates may run outside a step.
struct GateRunRecord {
  std::string run_id{};
  std::optional<StepId> step_id{};
  std::string gate{};     // the gate's name in verify.md
  std::string command{};  // the exact command: part of the cache key
  std::string tree_hash{};
  GateVerdict verdict = GateVerdict::kPass;
  int64_t duration_ms = 0;
  std::optional<int64_t> exit_code{};
  std::string output_excerpt{};  // redacted and truncated to 4 KiB by the ledger
};

// A verdict served from the gate cache.
struct CachedGate {
  GateVerdict verdict = GateVerdict::kPass;  // kPass or kFail
  std::optional<int64_t> exit_code{};
  std::string output_excerpt{};
  int64_t duration_ms = 0;  // what the original run cost, i.e. the time saved
  int64_t at = 0;
};

struct RollbackRecord {
  StepId step_id = 0;
  std::string reason{};
  std::string checkpoint{};  // the checkpoint restored
};

struct ApprovalRecord {
  std::string run_id{};
  std::string task_id{};
  std::optional<StepId> step_id{};
  std::string what{};  // the command or diff summary shown to the person
  ApprovalDecision decision = ApprovalDecision::kApproved;
  DecidedBy decided_by = DecidedBy::kPerson;
  int64_t waited_ms = 0;
  std::string reason{};
};

// A reviews row: the reviewer's verdict on a task's change (docs/LEDGER.md).
struct ReviewRecord {
  std::string run_id{};
  std::string task_id{};
  std::optional<StepId> step_id{};
  int n = 1;  // the task's 1st, 2nd, ... review in the run
  protocol::ReviewVerdict verdict = protocol::ReviewVerdict::kApprove;
  std::string reasons{};
  std::string model{};
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  int64_t wait_ms = 0;
  int64_t lines_changed = 0;
};

struct EscalationRecord {
  std::string run_id{};
  std::string task_id{};
  std::string from_tier{};
  std::string to_tier{};
  EscalationAction action = EscalationAction::kSlowTier;
  std::string reason{};
};

struct SteerNote {
  int64_t id = 0;
  std::string run_id{};
  std::string note{};
  std::string source{};  // "cli", "dashboard", ...
  int64_t at = 0;
  std::optional<StepId> delivered_step_id{};
  std::string task_id{};  // the one task it is for; empty: the next step of any task
};

// ---- skills (docs/SKILLS.md) ----

// A skill a task's first request carried (injected), or, for the A/B, the
// skill a task run without any skill is compared against (not injected:
// `tandem skills eval`'s arm without the skill).
struct SkillUse {
  std::string skill{};
  bool injected = true;
  bool forced = false;  // `tandem do --skill`
  double score = 0;     // BM25
  int64_t tokens = 0;   // of its injected text
  std::string source{}; // where it was found (".agents/skills/x/SKILL.md")
  bool eval = false;    // a `tandem skills eval` case
};

// How the task that saw the skills ended.
struct SkillUseEnd {
  protocol::Outcome outcome = protocol::Outcome::kError;
  int64_t steps = 0;
  int64_t tokens = 0;  // input + output
  double cost_usd = 0;
  int64_t wall_ms = 0;
};

// One arm of a skill's counts: the tasks that ended.
struct SkillArm {
  int64_t tasks = 0;
  int64_t succeeded = 0;
  int64_t steps = 0;  // sums, over the ended tasks
  int64_t tokens = 0;
  double cost_usd = 0;
  int64_t wall_ms = 0;
};

struct SkillCounts {
  std::string skill{};
  SkillArm with{};     // injected (replays)
  SkillArm without{};  // the comparison arm
  // Replays since the skill was last restored (all of them when never):
  // what flagging looks at.
  int64_t recent_replays = 0;
  int64_t recent_failures = 0;
  int64_t restored_at = 0;  // 0: never
};

}  // namespace tandem::ledger
