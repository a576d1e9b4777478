// Ledger: reads for resume, status and the gate cache.
#include <string>

#include "tandem/ledger/ledger.h"
#include "tandem/ledger/rows.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {

using internal::kRunColumns;
using internal::kStepColumns;
using internal::kTaskColumns;

Result<std::optional<RunRow>> Ledger::GetRun(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare("SELECT " + kRunColumns + " FROM runs WHERE id = ?1"));
  stmt.Bind(1, run_id);
  if (!LEDGER_TRY(stmt.Step())) return std::optional<RunRow>();
  return std::optional<RunRow>(internal::ReadRun(stmt));
}

Result<std::optional<RunRow>> Ledger::LastRun(std::string_view kind) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare("SELECT " + kRunColumns +
                                           " FROM runs WHERE (?1 = '' OR kind = ?1)"
                                           " ORDER BY started_at DESC, rowid DESC LIMIT 1"));
  stmt.Bind(1, kind);
  if (!LEDGER_TRY(stmt.Step())) return std::optional<RunRow>();
  return std::optional<RunRow>(internal::ReadRun(stmt));
}

Result<std::vector<RunRow>> Ledger::RunningRuns() {
  Statement stmt = LEDGER_TRY(db_->Prepare("SELECT " + kRunColumns +
                                           " FROM runs WHERE outcome = 'running'"
                                           " ORDER BY started_at, rowid"));
  std::vector<RunRow> runs;
  while (LEDGER_TRY(stmt.Step())) runs.push_back(internal::ReadRun(stmt));
  return runs;
}

Result<std::vector<RunRow>> Ledger::ActiveRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRow> runs = LEDGER_TRY(RunningRuns());
  std::erase_if(runs, [](const RunRow& r) { return !r.owner.IsAlive(); });
  return runs;
}

Result<std::vector<RunRow>> Ledger::FindOrphanedRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRow> runs = LEDGER_TRY(RunningRuns());
  std::erase_if(runs, [](const RunRow& r) { return r.owner.IsAlive(); });
  return runs;
}

Result<std::vector<StepRow>> Ledger::FindInterruptedSteps(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT " + kStepColumns +
      ", runs.pid, runs.pid_start_ticks, runs.boot_id FROM steps"
      " JOIN runs ON runs.id = steps.run_id"
      " WHERE steps.state = 'running' AND runs.outcome = 'running' AND (?1 = '' OR runs.id = ?1)"
      " ORDER BY steps.run_id, steps.n"));
  stmt.Bind(1, run_id);
  std::vector<StepRow> steps;
  const int owner = 13;  // first column after kStepColumns
  while (LEDGER_TRY(stmt.Step())) {
    ProcessIdentity id{stmt.Int(owner), stmt.Int(owner + 1), stmt.Text(owner + 2)};
    if (!id.IsAlive()) steps.push_back(internal::ReadStep(stmt));
  }
  return steps;
}

Result<std::vector<TaskRow>> Ledger::ListTasks(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(
      db_->Prepare("SELECT " + kTaskColumns + " FROM tasks WHERE run_id = ?1 ORDER BY rowid"));
  stmt.Bind(1, run_id);
  std::vector<TaskRow> tasks;
  while (LEDGER_TRY(stmt.Step())) tasks.push_back(internal::ReadTask(stmt));
  return tasks;
}

Result<std::vector<StepRow>> Ledger::ListSteps(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(
      db_->Prepare("SELECT " + kStepColumns + " FROM steps WHERE run_id = ?1 ORDER BY n"));
  stmt.Bind(1, run_id);
  std::vector<StepRow> steps;
  while (LEDGER_TRY(stmt.Step())) steps.push_back(internal::ReadStep(stmt));
  return steps;
}

Result<std::map<std::string, int>> Ledger::EscalationCounts(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT task_id, COUNT(*) FROM escalations WHERE run_id = ?1 GROUP BY task_id"));
  stmt.Bind(1, run_id);
  std::map<std::string, int> counts;
  while (LEDGER_TRY(stmt.Step())) counts[stmt.Text(0)] = static_cast<int>(stmt.Int(1));
  return counts;
}

Result<std::optional<StepId>> Ledger::RunningStepOf(std::string_view run_id,
                                                    std::string_view task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(
      db_->Prepare("SELECT id FROM steps WHERE run_id = ?1 AND (task_id = ?2 OR (?2 = '' AND "
                   "task_id IS NULL)) AND state = 'running' ORDER BY id DESC LIMIT 1"));
  stmt.Bind(1, run_id);
  stmt.Bind(2, task_id);
  if (!LEDGER_TRY(stmt.Step())) return std::optional<StepId>();
  return std::optional<StepId>(stmt.Int(0));
}

Result<std::vector<Ledger::UndoableRun>> Ledger::UndoableRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT r.id, (SELECT u.id FROM runs u WHERE u.kind = 'undo' AND u.goal = 'undo ' || r.id "
      "AND u.outcome = 'succeeded' ORDER BY u.started_at DESC, u.rowid DESC LIMIT 1) "
      "FROM runs r WHERE r.kind <> 'undo' ORDER BY r.started_at DESC, r.rowid DESC"));
  std::vector<UndoableRun> runs;
  while (LEDGER_TRY(stmt.Step())) runs.push_back({stmt.Text(0), stmt.Text(1)});
  return runs;
}

Result<std::vector<SteerNote>> Ledger::PendingSteerNotes(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt =
      LEDGER_TRY(db_->Prepare("SELECT id, run_id, note, source, at, task_id FROM steer_notes"
                              " WHERE run_id = ?1 AND delivered_step_id IS NULL ORDER BY id"));
  stmt.Bind(1, run_id);
  std::vector<SteerNote> notes;
  while (LEDGER_TRY(stmt.Step())) {
    notes.push_back(SteerNote{stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Int(4),
                              std::nullopt, stmt.Text(5)});
  }
  return notes;
}

Result<std::optional<CachedGate>> Ledger::GateCacheLookup(std::string_view tree_hash,
                                                          std::string_view gate,
                                                          std::string_view command) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT verdict, exit_code, output_excerpt, duration_ms, at FROM gate_runs"
      " WHERE tree_hash = ?1 AND gate = ?2 AND command = ?3 AND verdict IN ('pass','fail')"
      " ORDER BY at DESC, id DESC LIMIT 1"));
  // Commands are stored cleaned; look up the same spelling.
  stmt.Bind(1, tree_hash).Bind(2, gate).Bind(3, internal::Clean(command, internal::kMaxText));
  if (!LEDGER_TRY(stmt.Step())) return std::optional<CachedGate>();
  CachedGate hit;
  hit.verdict = LEDGER_TRY(ParseGateVerdict(stmt.Text(0)));
  hit.exit_code = stmt.OptionalInt(1);
  hit.output_excerpt = stmt.Text(2);
  hit.duration_ms = stmt.Int(3);
  hit.at = stmt.Int(4);
  return std::optional<CachedGate>(std::move(hit));
}

Result<RunReport> Ledger::RunSummary(std::string_view run_id) {
  RunReport report;
  {
    auto run = LEDGER_TRY(GetRun(run_id));
    if (!run) return NotFound("no run " + std::string(run_id));
    report.run = std::move(*run);
    report.tasks = LEDGER_TRY(ListTasks(run_id));
  }
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = report.run.ended_at ? *report.run.ended_at : Now();
  report.totals = LEDGER_TRY(ComputeTotals(run_id, now));
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT"
      " (SELECT COUNT(*) FROM steps WHERE run_id = ?1 AND state = 'done'),"
      " (SELECT COUNT(*) FROM steps WHERE run_id = ?1 AND state = 'rolled_back'),"
      " (SELECT COUNT(*) FROM steps WHERE run_id = ?1 AND state = 'interrupted'),"
      " (SELECT COUNT(*) FROM model_calls WHERE run_id = ?1),"
      " (SELECT COUNT(*) FROM tool_calls t JOIN steps s ON s.id = t.step_id WHERE s.run_id = ?1),"
      " (SELECT COUNT(*) FROM tool_calls t JOIN steps s ON s.id = t.step_id"
      "    WHERE s.run_id = ?1 AND t.outcome = 'error'),"
      " (SELECT COUNT(*) FROM tool_calls t JOIN steps s ON s.id = t.step_id"
      "    WHERE s.run_id = ?1 AND t.outcome = 'refused'),"
      " (SELECT COUNT(*) FROM gate_runs WHERE run_id = ?1 AND verdict != 'cached'),"
      " (SELECT COUNT(*) FROM gate_runs WHERE run_id = ?1 AND verdict = 'fail'),"
      " (SELECT COUNT(*) FROM gate_runs WHERE run_id = ?1 AND verdict = 'cached'),"
      " (SELECT COUNT(*) FROM rollbacks r JOIN steps s ON s.id = r.step_id WHERE s.run_id = ?1),"
      " (SELECT COUNT(*) FROM escalations WHERE run_id = ?1),"
      " (SELECT COUNT(*) FROM approvals WHERE run_id = ?1 AND decision = 'approved'),"
      " (SELECT COUNT(*) FROM approvals WHERE run_id = ?1 AND decision = 'denied'),"
      " (SELECT COUNT(*) FROM steer_notes WHERE run_id = ?1)"));
  stmt.Bind(1, run_id);
  LEDGER_TRY(stmt.Step());
  int64_t* fields[] = {
      &report.steps_done,      &report.steps_rolled_back, &report.steps_interrupted,
      &report.model_calls,     &report.tool_calls,        &report.tool_errors,
      &report.tool_refusals,   &report.gate_runs,         &report.gate_failures,
      &report.gate_cache_hits, &report.rollbacks,         &report.escalations,
      &report.approvals,       &report.denials,           &report.steer_notes};
  for (int i = 0; i < static_cast<int>(std::size(fields)); ++i) *fields[i] = stmt.Int(i);
  return report;
}

}  // namespace tandem::ledger
