#include "tandem/ledger/fanout_ledger.h"

#include <string>

#include "tandem/ledger/rows.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {

using internal::Clean;
using internal::kMaxShort;
using internal::kMaxText;

namespace {

constexpr std::string_view kVariantColumns =
    "run_id, n, model, temperature, approach, state, detail, final_checkpoint, tree_hash,"
    " duplicate_of, lines_added, lines_removed, files, tokens_in, tokens_out, cost_usd, wall_ms,"
    " gate_ms, rank, score, reasons, started_at, ended_at";

VariantRow ReadVariant(const Statement& s) {
  VariantRow v;
  v.run_id = s.Text(0);
  v.n = s.Int(1);
  v.model = s.Text(2);
  if (!s.IsNull(3)) v.temperature = s.Double(3);
  v.approach = s.Text(4);
  v.state = ParseVariantState(s.Text(5)).value_or(VariantState::kError);
  v.detail = s.Text(6);
  v.final_checkpoint = s.Text(7);
  v.tree_hash = s.Text(8);
  v.duplicate_of = s.OptionalInt(9);
  v.lines_added = s.Int(10);
  v.lines_removed = s.Int(11);
  v.files = s.Int(12);
  v.tokens_in = s.Int(13);
  v.tokens_out = s.Int(14);
  v.cost_usd = s.Double(15);
  v.wall_ms = s.Int(16);
  v.gate_ms = s.Int(17);
  v.rank = s.OptionalInt(18);
  if (!s.IsNull(19)) v.score = s.Double(19);
  v.reasons = s.Text(20);
  v.started_at = s.Int(21);
  v.ended_at = s.OptionalInt(22);
  return v;
}

}  // namespace

std::string_view ToString(VariantState v) { return protocol::Name(v); }
std::string_view ToString(ComparisonDecider d) { return protocol::Name(d); }

Result<std::unique_ptr<FanoutLedger>> FanoutLedger::Open(const Ledger& ledger, Clock clock) {
  if (!clock) return InvalidArgument("FanoutLedger::Open needs a clock");
  std::unique_ptr<Db> db = LEDGER_TRY(Db::Open(ledger.path(), /*create=*/false));
  RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout = 10000"));
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  return std::unique_ptr<FanoutLedger>(new FanoutLedger(std::move(clock), std::move(db)));
}

FanoutLedger::FanoutLedger(Clock clock, std::unique_ptr<Db> db)
    : clock_(std::move(clock)), db_(std::move(db)) {}
FanoutLedger::~FanoutLedger() = default;

Status FanoutLedger::UpsertVariant(const VariantRow& v) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_();
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO variants (" + std::string(kVariantColumns) +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
      " ?18, ?19, ?20, ?21, ?22, ?23)"
      " ON CONFLICT (run_id, n) DO UPDATE SET model = excluded.model,"
      " temperature = excluded.temperature, approach = excluded.approach,"
      " state = excluded.state, detail = excluded.detail,"
      " final_checkpoint = excluded.final_checkpoint, tree_hash = excluded.tree_hash,"
      " duplicate_of = excluded.duplicate_of, lines_added = excluded.lines_added,"
      " lines_removed = excluded.lines_removed, files = excluded.files,"
      " tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out,"
      " cost_usd = excluded.cost_usd, wall_ms = excluded.wall_ms, gate_ms = excluded.gate_ms,"
      " rank = excluded.rank, score = excluded.score, reasons = excluded.reasons,"
      " ended_at = CASE WHEN excluded.ended_at IS NULL THEN NULL"
      "            ELSE COALESCE(variants.ended_at, excluded.ended_at) END"));
  stmt.Bind(1, v.run_id)
      .Bind(2, v.n)
      .Bind(3, Clean(v.model, kMaxShort))
      .Bind(4, v.temperature)
      .Bind(5, Clean(v.approach, kMaxText))
      .Bind(6, ToString(v.state))
      .Bind(7, Clean(v.detail, kMaxText))
      .BindTextOrNull(8, v.final_checkpoint)
      .BindTextOrNull(9, v.tree_hash)
      .Bind(10, v.duplicate_of)
      .Bind(11, v.lines_added)
      .Bind(12, v.lines_removed)
      .Bind(13, v.files)
      .Bind(14, v.tokens_in)
      .Bind(15, v.tokens_out)
      .Bind(16, v.cost_usd)
      .Bind(17, v.wall_ms)
      .Bind(18, v.gate_ms)
      .Bind(19, v.rank)
      .Bind(20, v.score)
      .Bind(21, Clean(v.reasons, kMaxText))
      .Bind(22, now);
  if (v.state == VariantState::kRunning) {
    stmt.BindNull(23);
  } else {
    stmt.Bind(23, now);
  }
  return stmt.Run().WithContext("UpsertVariant " + v.run_id + "/" + std::to_string(v.n));
}

Result<std::vector<VariantRow>> FanoutLedger::ListVariants(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare("SELECT " + std::string(kVariantColumns) +
                                           " FROM variants WHERE run_id = ?1 ORDER BY n"));
  stmt.Bind(1, run_id);
  std::vector<VariantRow> rows;
  while (LEDGER_TRY(stmt.Step())) rows.push_back(ReadVariant(stmt));
  return rows;
}

Result<int64_t> FanoutLedger::CloseInterruptedVariants() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "UPDATE variants SET state = 'interrupted', ended_at = ?1,"
      " detail = CASE WHEN detail = '' THEN 'its process stopped' ELSE detail END"
      " WHERE state = 'running' AND run_id IN (SELECT id FROM runs WHERE outcome != 'running')"));
  stmt.Bind(1, clock_());
  RETURN_IF_ERROR(stmt.Run().WithContext("CloseInterruptedVariants"));
  return db_->Changes();
}

Result<std::vector<RunRow>> FanoutLedger::RunsEndedBefore(std::string_view kind, int64_t before_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT " + internal::kRunColumns +
      " FROM runs WHERE kind = ?1 AND ended_at IS NOT NULL AND ended_at < ?2"
      " ORDER BY started_at, rowid"));
  stmt.Bind(1, kind).Bind(2, before_ms);
  std::vector<RunRow> runs;
  while (LEDGER_TRY(stmt.Step())) runs.push_back(internal::ReadRun(stmt));
  return runs;
}

Result<std::vector<RunRow>> FanoutLedger::FanoutsOf(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // A prefix test without LIKE (whose _ and % a run id may hold).
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT " + internal::kRunColumns +
      " FROM runs WHERE kind = 'fanout' AND length(id) > length(?1) + 1"
      " AND substr(id, 1, length(?1) + 1) = ?1 || '.' ORDER BY started_at, rowid"));
  stmt.Bind(1, run_id);
  std::vector<RunRow> runs;
  while (LEDGER_TRY(stmt.Step())) runs.push_back(internal::ReadRun(stmt));
  return runs;
}

Result<std::vector<GateRunRecord>> FanoutLedger::TaskGateRuns(std::string_view run_id,
                                                        std::string_view task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT g.run_id, g.step_id, g.gate, g.command, g.tree_hash, g.verdict, g.duration_ms,"
      " g.exit_code, g.output_excerpt FROM gate_runs g JOIN steps s ON s.id = g.step_id"
      " WHERE s.run_id = ?1 AND s.task_id = ?2 ORDER BY g.id"));
  stmt.Bind(1, run_id).Bind(2, task_id);
  std::vector<GateRunRecord> rows;
  while (LEDGER_TRY(stmt.Step())) {
    GateRunRecord g;
    g.run_id = stmt.Text(0);
    g.step_id = stmt.OptionalInt(1);
    g.gate = stmt.Text(2);
    g.command = stmt.Text(3);
    g.tree_hash = stmt.Text(4);
    g.verdict = ParseGateVerdict(stmt.Text(5)).value_or(GateVerdict::kError);
    g.duration_ms = stmt.Int(6);
    g.exit_code = stmt.OptionalInt(7);
    g.output_excerpt = stmt.Text(8);
    rows.push_back(std::move(g));
  }
  return rows;
}

Result<RoleCallTally> FanoutLedger::CallsByRole(std::string_view run_id, std::string_view role) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),"
      " coalesce(sum(cost_usd), 0),"
      " coalesce((SELECT model FROM model_calls WHERE run_id = ?1 AND role = ?2"
      "           ORDER BY id DESC LIMIT 1), '')"
      " FROM model_calls WHERE run_id = ?1 AND role = ?2"));
  stmt.Bind(1, run_id).Bind(2, role);
  RoleCallTally tally;
  if (LEDGER_TRY(stmt.Step())) {
    tally.calls = stmt.Int(0);
    tally.tokens_in = stmt.Int(1);
    tally.tokens_out = stmt.Int(2);
    tally.cost_usd = stmt.Double(3);
    tally.model = stmt.Text(4);
  }
  return tally;
}

Result<int64_t> FanoutLedger::RecordPick(const PickRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO picks (run_id, variant, rank, paths, pick_run_id, applied, reason, waited_ms,"
      " at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  stmt.Bind(1, p.run_id)
      .Bind(2, p.variant)
      .Bind(3, p.rank)
      .Bind(4, Clean(p.paths, kMaxText))
      .BindTextOrNull(5, p.pick_run_id)
      .Bind(6, static_cast<int64_t>(p.applied ? 1 : 0))
      .Bind(7, Clean(p.reason, kMaxText))
      .Bind(8, p.waited_ms)
      .Bind(9, clock_());
  RETURN_IF_ERROR(stmt.Run().WithContext("RecordPick"));
  return db_->LastInsertRowId();
}

Result<std::vector<PickRecord>> FanoutLedger::ListPicks(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT id, run_id, variant, rank, paths, pick_run_id, applied, reason, waited_ms, at"
      " FROM picks WHERE run_id = ?1 ORDER BY id"));
  stmt.Bind(1, run_id);
  std::vector<PickRecord> picks;
  while (LEDGER_TRY(stmt.Step())) {
    PickRecord p;
    p.id = stmt.Int(0);
    p.run_id = stmt.Text(1);
    p.variant = stmt.Int(2);
    p.rank = stmt.OptionalInt(3);
    p.paths = stmt.Text(4);
    p.pick_run_id = stmt.Text(5);
    p.applied = stmt.Int(6) != 0;
    p.reason = stmt.Text(7);
    p.waited_ms = stmt.Int(8);
    p.at = stmt.Int(9);
    picks.push_back(std::move(p));
  }
  return picks;
}

Status FanoutLedger::RecordComparison(const ComparisonRow& c) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO comparisons (run_id, round, match, a, b, shown_first, winner, decided_by,"
      " reason, model, calls, tokens_in, tokens_out, cost_usd, wall_ms, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"));
  stmt.Bind(1, c.run_id)
      .Bind(2, c.round)
      .Bind(3, c.match)
      .Bind(4, c.a)
      .Bind(5, c.b)
      .Bind(6, c.shown_first)
      .Bind(7, c.winner)
      .Bind(8, ToString(c.decided_by))
      .Bind(9, Clean(c.reason, kMaxText))
      .Bind(10, Clean(c.model, kMaxShort))
      .Bind(11, c.calls)
      .Bind(12, c.tokens_in)
      .Bind(13, c.tokens_out)
      .Bind(14, c.cost_usd)
      .Bind(15, c.wall_ms)
      .Bind(16, clock_());
  return stmt.Run().WithContext("RecordComparison " + c.run_id + " match " +
                                std::to_string(c.match));
}

Result<std::vector<ComparisonRow>> FanoutLedger::ListComparisons(std::string_view run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT id, run_id, round, match, a, b, shown_first, winner, decided_by, reason, model,"
      " calls, tokens_in, tokens_out, cost_usd, wall_ms, at"
      " FROM comparisons WHERE run_id = ?1 ORDER BY match"));
  stmt.Bind(1, run_id);
  std::vector<ComparisonRow> rows;
  while (LEDGER_TRY(stmt.Step())) {
    ComparisonRow c;
    c.id = stmt.Int(0);
    c.run_id = stmt.Text(1);
    c.round = stmt.Int(2);
    c.match = stmt.Int(3);
    c.a = stmt.Int(4);
    c.b = stmt.Int(5);
    c.shown_first = stmt.Int(6);
    c.winner = stmt.Int(7);
    c.decided_by = ParseComparisonDecider(stmt.Text(8)).value_or(ComparisonDecider::kScore);
    c.reason = stmt.Text(9);
    c.model = stmt.Text(10);
    c.calls = stmt.Int(11);
    c.tokens_in = stmt.Int(12);
    c.tokens_out = stmt.Int(13);
    c.cost_usd = stmt.Double(14);
    c.wall_ms = stmt.Int(15);
    c.at = stmt.Int(16);
    rows.push_back(std::move(c));
  }
  return rows;
}

}  // namespace tandem::ledger
