// Ledger: aggregates for `tandem stats`, the raw read-only query layer, and
// the integrity check.
#include <sqlite3.h>

#include <string>

#include "tandem/ledger/ledger.h"
#include "tandem/ledger/migrations.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {
namespace {

// Binds ?1..?4 of a query that filters runs by the StatsFilter.
void BindFilter(Statement& stmt, const StatsFilter& f) {
  stmt.Bind(1, f.since_ms).Bind(2, f.until_ms).Bind(3, f.repo).Bind(4, f.kind);
}

// The runs a filter selects, as a CTE named `r`.
constexpr std::string_view kFilteredRuns =
    "WITH r AS (SELECT id, outcome, started_at, ended_at FROM runs"
    " WHERE started_at >= ?1 AND started_at < ?2 AND (?3 = '' OR repo = ?3)"
    " AND (?4 = '' OR kind = ?4)) ";

}  // namespace

Result<std::vector<TierStatsRow>> Ledger::TierStats(const StatsFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      std::string(kFilteredRuns) +
      "SELECT t.tier, COUNT(*), SUM(t.state = 'done'), SUM(t.state = 'failed'),"
      " SUM(t.state = 'skipped'), SUM(t.attempts),"
      " (SELECT COUNT(*) FROM escalations e"
      "    WHERE e.from_tier = t.tier AND e.run_id IN (SELECT id FROM r))"
      " FROM tasks t WHERE t.run_id IN (SELECT id FROM r) GROUP BY t.tier ORDER BY t.tier"));
  BindFilter(stmt, filter);
  std::vector<TierStatsRow> rows;
  while (LEDGER_TRY(stmt.Step())) {
    rows.push_back(TierStatsRow{stmt.Text(0), stmt.Int(1), stmt.Int(2), stmt.Int(3), stmt.Int(4),
                                stmt.Int(5), stmt.Int(6)});
  }
  return rows;
}

Result<RunStatsRow> Ledger::RunStats(const StatsFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      std::string(kFilteredRuns) +
      "SELECT"
      " (SELECT COUNT(*) FROM r),"
      " (SELECT COUNT(*) FROM r WHERE outcome = 'succeeded'),"
      " (SELECT COUNT(*) FROM r WHERE outcome = 'failed'),"
      " (SELECT COUNT(*) FROM r WHERE outcome = 'interrupted'),"
      " (SELECT COUNT(*) FROM r WHERE outcome = 'cancelled'),"
      " (SELECT COUNT(*) FROM r WHERE outcome = 'running'),"
      " (SELECT COUNT(*) FROM tasks WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COUNT(*) FROM tasks WHERE run_id IN (SELECT id FROM r) AND state = 'done'),"
      " (SELECT COUNT(*) FROM tasks WHERE run_id IN (SELECT id FROM r) AND state = 'failed'),"
      " (SELECT COUNT(*) FROM tasks WHERE run_id IN (SELECT id FROM r) AND state = 'skipped'),"
      " (SELECT COUNT(*) FROM steps WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COUNT(*) FROM steps WHERE run_id IN (SELECT id FROM r) AND attempt > 1),"
      " (SELECT COUNT(*) FROM rollbacks JOIN steps ON steps.id = rollbacks.step_id"
      "    WHERE steps.run_id IN (SELECT id FROM r)),"
      " (SELECT COUNT(*) FROM escalations WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COUNT(*) FROM approvals WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COUNT(*) FROM approvals WHERE run_id IN (SELECT id FROM r)"
      "    AND decision = 'denied'),"
      " (SELECT COALESCE(SUM(waited_ms), 0) FROM approvals WHERE run_id IN (SELECT id FROM r)"
      "    AND decided_by = 'person'),"
      " (SELECT COUNT(*) FROM steer_notes WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(cost_usd), 0) FROM model_calls WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(tokens_in), 0) FROM model_calls WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(tokens_out), 0) FROM model_calls WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(tokens_cached), 0) FROM model_calls"
      "    WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(duration_ms), 0) FROM model_calls"
      "    WHERE run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(tool_calls.duration_ms), 0) FROM tool_calls"
      "    JOIN steps ON steps.id = tool_calls.step_id WHERE steps.run_id IN (SELECT id FROM r)),"
      " (SELECT COALESCE(SUM(duration_ms), 0) FROM gate_runs WHERE run_id IN (SELECT id FROM r)"
      "    AND verdict != 'cached'),"
      " (SELECT COUNT(*) FROM gate_runs WHERE run_id IN (SELECT id FROM r)"
      "    AND verdict = 'cached'),"
      " (SELECT COALESCE(SUM(ended_at - started_at), 0) FROM r WHERE ended_at IS NOT NULL)"));
  BindFilter(stmt, filter);
  LEDGER_TRY(stmt.Step());
  RunStatsRow s;
  int64_t* ints[] = {&s.runs,           &s.runs_succeeded, &s.runs_failed, &s.runs_interrupted,
                     &s.runs_cancelled, &s.runs_running,   &s.tasks,       &s.tasks_done,
                     &s.tasks_failed,   &s.tasks_skipped,  &s.steps,       &s.retries,
                     &s.rollbacks,      &s.escalations,    &s.approvals,   &s.denials,
                     &s.human_ms,       &s.steer_notes};
  int column = 0;
  for (int64_t* field : ints) *field = stmt.Int(column++);
  s.cost_usd = stmt.Double(column++);
  int64_t* rest[] = {&s.tokens_in, &s.tokens_out, &s.tokens_cached,   &s.model_ms,
                     &s.tool_ms,   &s.gate_ms,    &s.gate_cache_hits, &s.wall_ms};
  for (int64_t* field : rest) *field = stmt.Int(column++);
  return s;
}

Result<QueryResult> Ledger::Query(std::string_view sql, const std::vector<SqlValue>& params) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->PrepareUncached(sql));
  if (!stmt.ReadOnly()) return PermissionDenied("Ledger::Query runs read-only statements only");
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            stmt.BindNull(index);
          } else {
            stmt.Bind(index, v);
          }
        },
        params[i]);
  }
  QueryResult result;
  for (int c = 0; c < stmt.ColumnCount(); ++c) result.columns.push_back(stmt.ColumnName(c));
  while (LEDGER_TRY(stmt.Step())) {
    std::vector<SqlValue> row;
    for (int c = 0; c < stmt.ColumnCount(); ++c) {
      switch (stmt.ColumnType(c)) {
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        case SQLITE_INTEGER:
          row.emplace_back(stmt.Int(c));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(stmt.Double(c));
          break;
        default:
          row.emplace_back(stmt.Text(c));
          break;
      }
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

Result<std::vector<std::string>> Ledger::IntegrityCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> problems;
  {
    Statement stmt = LEDGER_TRY(db_->PrepareUncached("PRAGMA integrity_check"));
    while (LEDGER_TRY(stmt.Step())) {
      std::string line = stmt.Text(0);
      if (line != "ok") problems.push_back("sqlite integrity_check: " + line);
    }
  }
  {
    Statement stmt = LEDGER_TRY(db_->PrepareUncached("PRAGMA foreign_key_check"));
    while (LEDGER_TRY(stmt.Step())) {
      problems.push_back("foreign key: " + stmt.Text(0) + " row " + stmt.Text(1) +
                         " references a missing " + stmt.Text(2) + " row");
    }
  }
  int version = LEDGER_TRY(SchemaVersion(*db_));
  if (version != CurrentSchemaVersion()) {
    problems.push_back("schema version " + std::to_string(version) + ", expected " +
                       std::to_string(CurrentSchemaVersion()));
  }
  // Each invariant: a query whose rows are violations, and how to describe one.
  struct Invariant {
    std::string_view sql;
    std::string_view what;
  };
  static constexpr Invariant kInvariants[] = {
      {"SELECT id FROM runs WHERE ended_at IS NOT NULL AND outcome = 'running'",
       "run has ended_at but outcome 'running'"},
      {"SELECT id FROM runs WHERE ended_at IS NULL AND outcome != 'running'",
       "run has an outcome but no ended_at"},
      {"SELECT steps.id FROM steps JOIN runs ON runs.id = steps.run_id"
       " WHERE steps.state = 'running' AND runs.outcome != 'running'",
       "step still 'running' in an ended run"},
      {"SELECT id FROM steps WHERE (state = 'running') != (ended_at IS NULL)",
       "step's ended_at disagrees with its state"},
      {"SELECT id FROM steps WHERE ended_at < started_at", "step ends before it starts"},
      {"SELECT id FROM runs WHERE ended_at < started_at", "run ends before it starts"},
      {"SELECT steps.id FROM steps WHERE steps.task_id IS NOT NULL AND NOT EXISTS"
       " (SELECT 1 FROM tasks WHERE tasks.run_id = steps.run_id"
       "  AND tasks.task_id = steps.task_id)",
       "step names a task its run does not have"},
      {"SELECT m.id FROM model_calls m JOIN steps s ON s.id = m.step_id"
       " WHERE s.run_id != m.run_id",
       "model call's run differs from its step's run"},
      {"SELECT g.id FROM gate_runs g JOIN steps s ON s.id = g.step_id WHERE s.run_id != g.run_id",
       "gate run's run differs from its step's run"},
      {"SELECT n.id FROM steer_notes n JOIN steps s ON s.id = n.delivered_step_id"
       " WHERE s.run_id != n.run_id",
       "steer note delivered to a step of another run"},
      {"SELECT run_id || '/' || task_id FROM tasks"
       " WHERE state IN ('done','failed','skipped') AND ended_at IS NULL",
       "finished task has no ended_at"},
  };
  for (const Invariant& inv : kInvariants) {
    Statement stmt = LEDGER_TRY(db_->PrepareUncached(inv.sql));
    while (LEDGER_TRY(stmt.Step())) {
      problems.push_back(std::string(inv.what) + ": " + stmt.Text(0));
    }
  }
  return problems;
}

}  // namespace tandem::ledger
