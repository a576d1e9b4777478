#include "tandem/metrics/read_facts.h"

#include <string>
#include <variant>

namespace tandem::metrics {
namespace {

using ledger::SqlValue;

int64_t Int(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double Real(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

std::string Text(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

// The rows of `runs` that are runs: an undo has a row (its checkpoint and
// outcome are logged) but pursues no goal and calls no model.
// ?1 = since, ?2 = until.
constexpr std::string_view kRunsInWindow =
    " WHERE kind != 'undo' AND started_at >= ?1 AND started_at < ?2";

// `head` + the window's runs (for `run_id IN (...)`) + `tail`.
std::string Sql(std::string_view head, std::string_view tail = "") {
  return std::string(head) + "(SELECT id FROM runs" + std::string(kRunsInWindow) + ")" +
         std::string(tail);
}

}  // namespace

Result<LedgerFacts> ReadLedgerFacts(ledger::Ledger& ledger, const Window& window) {
  const std::vector<SqlValue> params = {window.since_ms, window.until_ms};
  LedgerFacts facts;

  auto runs =
      TRY(ledger.Query("SELECT id, kind, outcome, started_at, ended_at FROM runs" +
                           std::string(kRunsInWindow) + " ORDER BY started_at, id",
                       params));
  for (const auto& r : runs.rows) {
    RunFact run{Text(r[0]), Text(r[1]), Text(r[2]), Int(r[3]), std::nullopt};
    if (!std::holds_alternative<std::monostate>(r[4])) run.ended_at = Int(r[4]);
    facts.runs.push_back(std::move(run));
  }

  auto tasks = TRY(
      ledger.Query(Sql("SELECT run_id, task_id, tier, state, attempts FROM tasks WHERE run_id IN ",
                       " ORDER BY run_id, task_id"),
                   params));
  for (const auto& r : tasks.rows) {
    facts.tasks.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Int(r[4])});
  }

  // Per (run, task): steps, the rises of steps.attempt from one step to the
  // next (in order of n), and rollbacks.
  auto groups = TRY(ledger.Query(
      Sql("SELECT run_id, task, COUNT(*), SUM(MAX(attempt - COALESCE(prev, 1), 0)), SUM(rb) FROM"
          " (SELECT s.run_id, COALESCE(s.task_id, '') AS task, s.attempt,"
          "   LAG(s.attempt) OVER (PARTITION BY s.run_id, s.task_id ORDER BY s.n) AS prev,"
          "   (SELECT COUNT(*) FROM rollbacks rb WHERE rb.step_id = s.id) AS rb"
          "  FROM steps s WHERE s.run_id IN ",
          ") GROUP BY run_id, task ORDER BY run_id, task"),
      params));
  for (const auto& r : groups.rows) {
    facts.step_groups.push_back({Text(r[0]), Text(r[1]), Int(r[2]), Int(r[3]), Int(r[4])});
  }

  auto calls = TRY(ledger.Query(
      Sql("SELECT m.run_id, COALESCE(s.task_id, ''), m.provider, m.model, m.role, m.tier,"
          " m.tokens_in, m.tokens_out, m.tokens_cached, m.cost_usd, m.ttft_ms, m.duration_ms,"
          " m.error_kind IS NOT NULL"
          " FROM model_calls m LEFT JOIN steps s ON s.id = m.step_id WHERE m.run_id IN ",
          " ORDER BY m.id"),
      params));
  for (const auto& r : calls.rows) {
    ModelCallFact c;
    c.run_id = Text(r[0]);
    c.task_id = Text(r[1]);
    c.provider = Text(r[2]);
    c.model = Text(r[3]);
    c.role = Text(r[4]);
    c.tier = Text(r[5]);
    c.tokens_in = Int(r[6]);
    c.tokens_out = Int(r[7]);
    c.tokens_cached = Int(r[8]);
    c.cost_usd = Real(r[9]);
    c.ttft_ms = Int(r[10]);
    c.duration_ms = Int(r[11]);
    c.error = Int(r[12]) != 0;
    facts.model_calls.push_back(std::move(c));
  }

  auto times = TRY(ledger.Query(
      "SELECT r.id,"
      " (SELECT COALESCE(SUM(t.duration_ms), 0) FROM tool_calls t"
      "    JOIN steps s ON s.id = t.step_id WHERE s.run_id = r.id),"
      " (SELECT COALESCE(SUM(g.duration_ms), 0) FROM gate_runs g"
      "    WHERE g.run_id = r.id AND g.verdict != 'cached'),"
      " (SELECT COUNT(*) FROM gate_runs g WHERE g.run_id = r.id AND g.verdict = 'cached')"
      " FROM runs r WHERE r.started_at >= ?1 AND r.started_at < ?2 ORDER BY r.id",
      params));
  for (const auto& r : times.rows) {
    facts.run_times.push_back({Text(r[0]), Int(r[1]), Int(r[2]), Int(r[3])});
  }

  auto approvals = TRY(ledger.Query(
      Sql("SELECT a.run_id, COALESCE(NULLIF(a.task_id, ''), s.task_id, ''), a.decision,"
          " a.decided_by, a.waited_ms FROM approvals a LEFT JOIN steps s ON s.id = a.step_id"
          " WHERE a.run_id IN ",
          " ORDER BY a.id"),
      params));
  for (const auto& r : approvals.rows) {
    facts.approvals.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Int(r[4])});
  }

  auto escalations = TRY(
      ledger.Query(Sql("SELECT run_id, COALESCE(task_id, ''), from_tier, to_tier FROM escalations"
                       " WHERE run_id IN ",
                       " ORDER BY id"),
                   params));
  for (const auto& r : escalations.rows) {
    facts.escalations.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3])});
  }

  auto notes = TRY(
      ledger.Query(Sql("SELECT n.run_id, COALESCE(s.task_id, ''), n.delivered_step_id IS NOT NULL"
                       " FROM steer_notes n LEFT JOIN steps s ON s.id = n.delivered_step_id"
                       " WHERE n.run_id IN ",
                       " ORDER BY n.id"),
                   params));
  for (const auto& r : notes.rows) {
    facts.steer_notes.push_back({Text(r[0]), Text(r[1]), Int(r[2]) != 0});
  }
  auto variants = TRY(ledger.Query(
      Sql("SELECT run_id, state, cost_usd FROM variants WHERE run_id IN ", " ORDER BY run_id, n"),
      params));
  for (const auto& r : variants.rows) facts.variants.push_back({Text(r[0]), Text(r[1]), Real(r[2])});
  auto picks = TRY(ledger.Query(
      Sql("SELECT run_id, rank, applied, waited_ms FROM picks WHERE run_id IN ", " ORDER BY id"),
      params));
  for (const auto& r : picks.rows) {
    PickFact p{Text(r[0]), std::nullopt, Int(r[2]) != 0, Int(r[3])};
    if (!std::holds_alternative<std::monostate>(r[1])) p.rank = Int(r[1]);
    facts.picks.push_back(std::move(p));
  }
  auto reviews = TRY(ledger.Query(
      Sql("SELECT run_id, COALESCE(task_id, ''), verdict, cost_usd FROM reviews WHERE run_id IN ",
          " ORDER BY id"),
      params));
  for (const auto& r : reviews.rows) {
    facts.reviews.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Real(r[3])});
  }
  return facts;
}

}  // namespace tandem::metrics
