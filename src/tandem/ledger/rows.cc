#include "tandem/ledger/rows.h"

#include "tandem/base/redact.h"

namespace tandem::ledger::internal {

std::string Clean(std::string_view text, size_t max_bytes) {
  std::string out = Redactor::Apply(text);
  if (out.size() <= max_bytes) return out;
  static constexpr std::string_view kMark = "\u2026[truncated]";
  size_t keep = max_bytes > kMark.size() ? max_bytes - kMark.size() : 0;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (keep > 0 && (static_cast<unsigned char>(out[keep]) & 0xC0) == 0x80) --keep;
  out.resize(keep);
  out += kMark;
  return out;
}

const std::string kRunColumns =
    "runs.id, runs.kind, runs.goal, runs.repo, runs.started_at, runs.ended_at, runs.outcome, "
    "runs.exit_code, runs.base_checkpoint, runs.final_checkpoint, runs.pid, "
    "runs.pid_start_ticks, runs.boot_id, runs.steps, runs.retries, runs.tokens_in, "
    "runs.tokens_out, runs.tokens_cached, runs.cost_usd, runs.wall_ms, runs.model_ms, "
    "runs.tool_ms, runs.gate_ms, runs.human_ms";

const std::string kTaskColumns =
    "tasks.run_id, tasks.task_id, tasks.title, tasks.risk, tasks.tier, tasks.state, "
    "tasks.attempts, tasks.started_at, tasks.ended_at, tasks.outcome_detail";

const std::string kStepColumns =
    "steps.id, steps.run_id, steps.task_id, steps.n, steps.attempt, steps.started_at, "
    "steps.ended_at, steps.state, steps.checkpoint_before, steps.checkpoint_after, "
    "steps.lines_changed, steps.files_changed, steps.note";

RunRow ReadRun(const Statement& s, int c) {
  RunRow r;
  r.id = s.Text(c + 0);
  r.kind = s.Text(c + 1);
  r.goal = s.Text(c + 2);
  r.repo = s.Text(c + 3);
  r.started_at = s.Int(c + 4);
  r.ended_at = s.OptionalInt(c + 5);
  r.outcome = ParseRunOutcome(s.Text(c + 6)).value_or(RunOutcome::kRunning);
  r.exit_code = s.OptionalInt(c + 7);
  r.base_checkpoint = s.Text(c + 8);
  r.final_checkpoint = s.Text(c + 9);
  r.owner.pid = s.Int(c + 10);
  r.owner.start_ticks = s.Int(c + 11);
  r.owner.boot_id = s.Text(c + 12);
  r.totals.steps = s.Int(c + 13);
  r.totals.retries = s.Int(c + 14);
  r.totals.tokens_in = s.Int(c + 15);
  r.totals.tokens_out = s.Int(c + 16);
  r.totals.tokens_cached = s.Int(c + 17);
  r.totals.cost_usd = s.Double(c + 18);
  r.totals.wall_ms = s.Int(c + 19);
  r.totals.model_ms = s.Int(c + 20);
  r.totals.tool_ms = s.Int(c + 21);
  r.totals.gate_ms = s.Int(c + 22);
  r.totals.human_ms = s.Int(c + 23);
  return r;
}

TaskRow ReadTask(const Statement& s, int c) {
  TaskRow t;
  t.run_id = s.Text(c + 0);
  t.task_id = s.Text(c + 1);
  t.title = s.Text(c + 2);
  t.risk = protocol::ParseRisk(s.Text(c + 3)).value_or(Risk::kReversible);
  t.tier = s.Text(c + 4);
  t.state = ParseTaskState(s.Text(c + 5)).value_or(TaskState::kPending);
  t.attempts = s.Int(c + 6);
  t.started_at = s.OptionalInt(c + 7);
  t.ended_at = s.OptionalInt(c + 8);
  t.outcome_detail = s.Text(c + 9);
  return t;
}

StepRow ReadStep(const Statement& s, int c) {
  StepRow r;
  r.id = s.Int(c + 0);
  r.run_id = s.Text(c + 1);
  r.task_id = s.Text(c + 2);
  r.n = s.Int(c + 3);
  r.attempt = s.Int(c + 4);
  r.started_at = s.Int(c + 5);
  r.ended_at = s.OptionalInt(c + 6);
  r.state = ParseStepState(s.Text(c + 7)).value_or(StepState::kRunning);
  r.checkpoint_before = s.Text(c + 8);
  r.checkpoint_after = s.Text(c + 9);
  r.lines_changed = s.Int(c + 10);
  r.files_changed = s.Int(c + 11);
  r.note = s.Text(c + 12);
  return r;
}

}  // namespace tandem::ledger::internal
