// Ledger: opening, and the record functions (the write half). Queries,
// stats and the integrity check are in ledger_queries.cc.
#include "tandem/ledger/ledger.h"

#include <sqlite3.h>

#include <unistd.h>

#include <string>
#include <system_error>
#include <utility>

#include "tandem/base/token_rate.h"
#include "tandem/ledger/migrations.h"
#include "tandem/ledger/rows.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {

using internal::Clean;
using internal::kMaxArgsSummary;
using internal::kMaxDetail;
using internal::kMaxExcerpt;
using internal::kMaxShort;
using internal::kMaxText;

namespace {

bool IsTerminal(TaskState s) {
  return s == TaskState::kDone || s == TaskState::kFailed || s == TaskState::kSkipped;
}

// Reports why an UPDATE guarded by a state condition changed nothing.
Status NothingChanged(Db& db, std::string_view table, std::string_view id_column,
                      const std::string& id, std::string_view what) {
  auto stmt = db.PrepareUncached("SELECT COUNT(*) FROM " + std::string(table) + " WHERE " +
                                 std::string(id_column) + " = ?1");
  if (!stmt) return stmt.error();
  stmt->Bind(1, id);
  auto row = stmt->Step();
  if (!row) return row.error();
  if (stmt->Int(0) == 0) return NotFound(std::string(table) + " has no row " + id);
  return FailedPrecondition(std::string(table) + " " + id + ": " + std::string(what));
}

}  // namespace

Ledger::Ledger(LedgerOptions options, std::unique_ptr<Db> db)
    : options_(std::move(options)), db_(std::move(db)) {}

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  if (!options.clock) return InvalidArgument("Ledger::Open needs a clock");
  std::error_code ec;
  if (options.path.has_parent_path()) {
    std::filesystem::create_directories(options.path.parent_path(), ec);
    if (ec) {
      return IoError("cannot create " + options.path.parent_path().string() + ": " + ec.message());
    }
  }
  std::unique_ptr<Db> db = LEDGER_TRY(Db::Open(options.path, /*create=*/true));
  RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms)));
  // The first read: a corrupt or foreign file fails here, before anything
  // could write to it, and so does a schema from a newer tandem.
  int version = LEDGER_TRY(SchemaVersion(*db));
  if (version > CurrentSchemaVersion()) return Migrate(*db, options.clock());
  // Switching to WAL needs an exclusive lock, and SQLite answers a
  // concurrent opener's switch with SQLITE_BUSY at once instead of calling
  // the busy handler (it would deadlock on the lock upgrade): retry a while.
  auto wal = db->QueryText("PRAGMA journal_mode = WAL");
  for (int attempt = 0; !wal && wal.error().code() == StatusCode::kUnavailable && attempt < 100;
       ++attempt) {
    sqlite3_sleep(5);
    wal = db->QueryText("PRAGMA journal_mode = WAL");
  }
  std::string mode = LEDGER_TRY(std::move(wal));
  if (mode != "wal") {
    return FailedPrecondition(options.path.string() +
                              ": cannot switch the ledger to WAL mode (journal_mode is " + mode +
                              "); is it on a network file system?");
  }
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  RETURN_IF_ERROR(Migrate(*db, options.clock()));
  return std::unique_ptr<Ledger>(new Ledger(std::move(options), std::move(db)));
}

Status Ledger::MoveLegacy(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::create_directories(to.parent_path(), ec);
  if (ec) return IoError("cannot create " + to.parent_path().string() + ": " + ec.message());
  const std::filesystem::path tmp =
      to.string() + ".moving." + std::to_string(::getpid());
  std::filesystem::remove(tmp, ec);  // a killed earlier attempt's
  {
    std::unique_ptr<Db> db = LEDGER_TRY(Db::Open(from, /*create=*/false));
    RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout = 10000"));
    Statement vacuum = LEDGER_TRY(db->PrepareUncached("VACUUM INTO ?1"));
    vacuum.Bind(1, tmp.string());
    if (auto done = vacuum.Step(); !done) {
      std::filesystem::remove(tmp, ec);
      return done.error();
    }
  }
  // link(2) never replaces: a process that moved it first keeps its copy.
  std::filesystem::create_hard_link(tmp, to, ec);
  const bool taken = ec == std::errc::file_exists;
  std::error_code unlink_ec;
  std::filesystem::remove(tmp, unlink_ec);
  if (ec && !taken) return IoError("cannot create " + to.string() + ": " + ec.message());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(from.string() + suffix, ec);
  }
  std::filesystem::remove(from.parent_path(), ec);  // only when empty
  return Status::Ok();
}

// The connection runs with synchronous=NORMAL (a commit is a write() into the
// WAL: safe against kill -9). Under kPowerLoss the boundary writes switch to
// FULL for their commit: that fsyncs the WAL file, which makes all earlier
// NORMAL commits durable as well.
template <typename F>
Status Ledger::Durably(F&& write) {
  bool boundary = options_.durability == Durability::kPowerLoss;
  if (boundary) RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous = FULL"));
  Status result = write();
  if (boundary) {
    Status restored = db_->Exec("PRAGMA synchronous = NORMAL");
    if (!restored.ok() && result.ok()) return restored;
  }
  return result;
}

// ---- runs ----

Status Ledger::BeginRun(const RunStart& start) {
  if (start.id.empty()) return InvalidArgument("BeginRun: empty run id");
  ProcessIdentity owner = start.owner ? *start.owner : ProcessIdentity::Current();
  std::lock_guard<std::mutex> lock(mu_);
  return Durably([&]() -> Status {
    Statement stmt = LEDGER_TRY(db_->Prepare(
        "INSERT INTO runs (id, kind, goal, repo, started_at, outcome, base_checkpoint, pid, "
        "pid_start_ticks, boot_id) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9)"));
    stmt.Bind(1, start.id)
        .Bind(2, Clean(start.kind, kMaxShort))
        .Bind(3, Clean(start.goal, kMaxText))
        .Bind(4, start.repo)
        .Bind(5, Now())
        .BindTextOrNull(6, start.base_checkpoint)
        .Bind(7, owner.pid)
        .Bind(8, owner.start_ticks)
        .Bind(9, owner.boot_id);
    Status status = stmt.Run();
    if (!status.ok() && status.code() == StatusCode::kInvalidArgument) {
      auto existing = db_->PrepareUncached("SELECT 1 FROM runs WHERE id = ?1");
      if (existing) {
        existing->Bind(1, start.id);
        auto row = existing->Step();
        if (row && *row) return {StatusCode::kAlreadyExists, "run " + start.id + " already exists"};
      }
    }
    return status.WithContext("BeginRun " + start.id);
  });
}

Result<RunTotals> Ledger::ComputeTotals(std::string_view run_id, int64_t now) {
  RunTotals t;
  Statement q = LEDGER_TRY(
      db_->Prepare("SELECT "
                   " (SELECT COUNT(*) FROM steps WHERE run_id = ?1),"
                   " (SELECT COUNT(*) FROM steps WHERE run_id = ?1 AND attempt > 1),"
                   " (SELECT COALESCE(SUM(tool_calls.duration_ms), 0) FROM tool_calls"
                   "    JOIN steps ON steps.id = tool_calls.step_id WHERE steps.run_id = ?1),"
                   " (SELECT COALESCE(SUM(duration_ms), 0) FROM gate_runs"
                   "    WHERE run_id = ?1 AND verdict != 'cached'),"
                   " (SELECT COALESCE(SUM(waited_ms), 0) FROM approvals"
                   "    WHERE run_id = ?1 AND decided_by = 'person'),"
                   " (SELECT started_at FROM runs WHERE id = ?1),"
                   " COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0),"
                   " COALESCE(SUM(tokens_cached), 0), COALESCE(SUM(cost_usd), 0),"
                   " COALESCE(SUM(duration_ms), 0)"
                   " FROM model_calls WHERE run_id = ?1"));
  q.Bind(1, run_id);
  LEDGER_TRY(q.Step());
  t.steps = q.Int(0);
  t.retries = q.Int(1);
  t.tool_ms = q.Int(2);
  t.gate_ms = q.Int(3);
  t.human_ms = q.Int(4);
  t.wall_ms = q.IsNull(5) ? 0 : now - q.Int(5);
  t.tokens_in = q.Int(6);
  t.tokens_out = q.Int(7);
  t.tokens_cached = q.Int(8);
  t.cost_usd = q.Double(9);
  t.model_ms = q.Int(10);
  return t;
}

Status Ledger::EndRun(std::string_view run_id, const RunEnd& end) {
  if (end.outcome == RunOutcome::kRunning) return InvalidArgument("EndRun: outcome is running");
  std::string id(run_id);
  std::lock_guard<std::mutex> lock(mu_);
  return Durably([&]() -> Status {
    Transaction txn = LEDGER_TRY(Transaction::Begin(*db_));
    int64_t now = Now();
    Statement steps =
        LEDGER_TRY(db_->Prepare("UPDATE steps SET state = 'interrupted', ended_at = ?2 "
                                "WHERE run_id = ?1 AND state = 'running'"));
    steps.Bind(1, id).Bind(2, now);
    RETURN_IF_ERROR(steps.Run());
    RunTotals totals = end.totals ? *end.totals : LEDGER_TRY(ComputeTotals(id, now));
    if (end.totals && totals.wall_ms == 0)
      totals.wall_ms = LEDGER_TRY(ComputeTotals(id, now)).wall_ms;
    Statement stmt = LEDGER_TRY(db_->Prepare(
        "UPDATE runs SET ended_at = ?2, outcome = ?3, exit_code = ?4, final_checkpoint = ?5,"
        " steps = ?6, retries = ?7, tokens_in = ?8, tokens_out = ?9, tokens_cached = ?10,"
        " cost_usd = ?11, wall_ms = ?12, model_ms = ?13, tool_ms = ?14, gate_ms = ?15,"
        " human_ms = ?16 WHERE id = ?1 AND outcome = 'running'"));
    stmt.Bind(1, id)
        .Bind(2, now)
        .Bind(3, ToString(end.outcome))
        .Bind(4, end.exit_code)
        .BindTextOrNull(5, end.final_checkpoint)
        .Bind(6, totals.steps)
        .Bind(7, totals.retries)
        .Bind(8, totals.tokens_in)
        .Bind(9, totals.tokens_out)
        .Bind(10, totals.tokens_cached)
        .Bind(11, totals.cost_usd)
        .Bind(12, totals.wall_ms)
        .Bind(13, totals.model_ms)
        .Bind(14, totals.tool_ms)
        .Bind(15, totals.gate_ms)
        .Bind(16, totals.human_ms);
    RETURN_IF_ERROR(stmt.Run());
    if (db_->Changes() == 0) return NothingChanged(*db_, "runs", "id", id, "already ended");
    return txn.Commit();
  });
}

Status Ledger::AdoptRun(std::string_view run_id) {
  std::string id(run_id);
  ProcessIdentity me = ProcessIdentity::Current();
  std::lock_guard<std::mutex> lock(mu_);
  return Durably([&]() -> Status {
    Transaction txn = LEDGER_TRY(Transaction::Begin(*db_));
    Statement get =
        LEDGER_TRY(db_->Prepare("SELECT " + internal::kRunColumns + " FROM runs WHERE id = ?1"));
    get.Bind(1, id);
    if (!LEDGER_TRY(get.Step())) return NotFound("no run " + id);
    RunRow run = internal::ReadRun(get);
    if (run.outcome == RunOutcome::kSucceeded) {
      return FailedPrecondition("run " + id + " already succeeded; nothing to resume");
    }
    if (run.outcome == RunOutcome::kRunning && run.owner.IsAlive() && !(run.owner == me)) {
      return FailedPrecondition("run " + id + " is still running in process " +
                                std::to_string(run.owner.pid));
    }
    int64_t now = Now();
    Statement steps =
        LEDGER_TRY(db_->Prepare("UPDATE steps SET state = 'interrupted', ended_at = ?2 "
                                "WHERE run_id = ?1 AND state = 'running'"));
    steps.Bind(1, id).Bind(2, now);
    RETURN_IF_ERROR(steps.Run());
    Statement adopt = LEDGER_TRY(db_->Prepare(
        "UPDATE runs SET outcome = 'running', ended_at = NULL, exit_code = NULL, pid = ?2,"
        " pid_start_ticks = ?3, boot_id = ?4 WHERE id = ?1"));
    adopt.Bind(1, id).Bind(2, me.pid).Bind(3, me.start_ticks).Bind(4, me.boot_id);
    RETURN_IF_ERROR(adopt.Run());
    return txn.Commit();
  });
}

// ---- tasks ----

Status Ledger::UpsertTask(const TaskRow& task) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO tasks (run_id, task_id, title, risk, tier, state, attempts, started_at,"
      " ended_at, outcome_detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
      " ON CONFLICT (run_id, task_id) DO UPDATE SET title = excluded.title,"
      " risk = excluded.risk, tier = excluded.tier, state = excluded.state,"
      " attempts = excluded.attempts,"
      " started_at = COALESCE(tasks.started_at, excluded.started_at),"
      " ended_at = CASE WHEN excluded.ended_at IS NULL THEN NULL"
      "            ELSE COALESCE(tasks.ended_at, excluded.ended_at) END,"
      " outcome_detail = excluded.outcome_detail"));
  stmt.Bind(1, task.run_id)
      .Bind(2, task.task_id)
      .Bind(3, Clean(task.title, kMaxShort))
      .Bind(4, ToString(task.risk))
      .Bind(5, task.tier)
      .Bind(6, ToString(task.state))
      .Bind(7, task.attempts);
  if (task.state == TaskState::kRunning) {
    stmt.Bind(8, now);
  } else {
    stmt.BindNull(8);
  }
  if (IsTerminal(task.state)) {
    stmt.Bind(9, now);
  } else {
    stmt.BindNull(9);
  }
  stmt.Bind(10, Clean(task.outcome_detail, kMaxText));
  return stmt.Run().WithContext("UpsertTask " + task.run_id + "/" + task.task_id);
}

// ---- steps ----

Result<StepId> Ledger::BeginStep(const StepStart& start) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO steps (run_id, task_id, n, attempt, started_at, state, checkpoint_before)"
      " SELECT ?1, ?2, next, ?3, ?4, 'running', ?5"
      " FROM (SELECT COALESCE(MAX(n), 0) + 1 AS next FROM steps WHERE run_id = ?1)"
      " WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?1 AND outcome = 'running')"));
  stmt.Bind(1, start.run_id)
      .BindTextOrNull(2, start.task_id)
      .Bind(3, start.attempt)
      .Bind(4, Now())
      .BindTextOrNull(5, start.checkpoint_before);
  RETURN_IF_ERROR(stmt.Run().WithContext("BeginStep in run " + start.run_id));
  if (db_->Changes() == 0) {
    return NothingChanged(*db_, "runs", "id", start.run_id, "is not running");
  }
  return db_->LastInsertRowId();
}

Status Ledger::EndStep(StepId step, const StepEnd& end) {
  if (end.state == StepState::kRunning) return InvalidArgument("EndStep: state is running");
  std::lock_guard<std::mutex> lock(mu_);
  return Durably([&]() -> Status {
    Statement stmt =
        LEDGER_TRY(db_->Prepare("UPDATE steps SET ended_at = ?2, state = ?3, checkpoint_after = ?4,"
                                " lines_changed = ?5, files_changed = ?6, note = ?7"
                                " WHERE id = ?1 AND state = 'running'"));
    stmt.Bind(1, step)
        .Bind(2, Now())
        .Bind(3, ToString(end.state))
        .BindTextOrNull(4, end.checkpoint_after)
        .Bind(5, end.lines_changed)
        .Bind(6, end.files_changed)
        .Bind(7, Clean(end.note, kMaxText));
    RETURN_IF_ERROR(stmt.Run());
    if (db_->Changes() == 0) {
      return NothingChanged(*db_, "steps", "id", std::to_string(step), "already ended");
    }
    return Status::Ok();
  });
}

// ---- events ----

Status Ledger::RecordModelCall(const ModelCallRecord& c) {
  if (c.run_id.empty() && !c.step_id) return InvalidArgument("model call needs a run or a step");
  double tokens_per_s = c.tokens_per_s;
  if (tokens_per_s == 0) {
    tokens_per_s = ReplyTokensPerSecond(c.tokens_out, static_cast<double>(c.ttft_ms),
                                        static_cast<double>(c.duration_ms));
  }
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO model_calls (run_id, step_id, role, tier, provider, model, tokens_in,"
      " tokens_out, tokens_cached, cache_write, cost_usd, ttft_ms, duration_ms, tokens_per_s,"
      " retries, error_kind, at) VALUES (COALESCE(?1, (SELECT run_id FROM steps WHERE id = ?2)),"
      " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"));
  stmt.BindTextOrNull(1, c.run_id)
      .Bind(2, c.step_id)
      .Bind(3, c.role)
      .Bind(4, c.tier)
      .Bind(5, c.provider)
      .Bind(6, c.model)
      .Bind(7, c.tokens_in)
      .Bind(8, c.tokens_out)
      .Bind(9, c.tokens_cached)
      .Bind(10, c.cache_write)
      .Bind(11, c.cost_usd)
      .Bind(12, c.ttft_ms)
      .Bind(13, c.duration_ms)
      .Bind(14, tokens_per_s)
      .Bind(15, c.retries);
  if (c.error_kind.empty()) {
    stmt.BindNull(16);
  } else {
    stmt.Bind(16, Clean(c.error_kind, kMaxShort));
  }
  stmt.Bind(17, Now());
  return stmt.Run().WithContext("RecordModelCall");
}

Status Ledger::RecordToolCall(const ToolCallRecord& c) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO tool_calls (step_id, name, args_summary, outcome, duration_ms, detail, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.Bind(1, c.step_id)
      .Bind(2, Clean(c.name, kMaxShort))
      .Bind(3, Clean(c.args_summary, kMaxArgsSummary))
      .Bind(4, ToString(c.outcome))
      .Bind(5, c.duration_ms)
      .Bind(6, Clean(c.detail, kMaxDetail))
      .Bind(7, Now());
  return stmt.Run().WithContext("RecordToolCall");
}

Status Ledger::RecordGateRun(const GateRunRecord& g) {
  if (g.run_id.empty() && !g.step_id) return InvalidArgument("gate run needs a run or a step");
  if (g.tree_hash.empty()) return InvalidArgument("gate run without a tree hash");
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO gate_runs (run_id, step_id, gate, command, tree_hash, verdict, duration_ms,"
      " exit_code, output_excerpt, at)"
      " VALUES (COALESCE(?1, (SELECT run_id FROM steps WHERE id = ?2)), ?2, ?3, ?4, ?5, ?6, ?7,"
      " ?8, ?9, ?10)"));
  stmt.BindTextOrNull(1, g.run_id)
      .Bind(2, g.step_id)
      .Bind(3, g.gate)
      .Bind(4, Clean(g.command, kMaxText))
      .Bind(5, g.tree_hash)
      .Bind(6, ToString(g.verdict))
      .Bind(7, g.duration_ms)
      .Bind(8, g.exit_code)
      .Bind(9, Clean(g.output_excerpt, kMaxExcerpt))
      .Bind(10, Now());
  return stmt.Run().WithContext("RecordGateRun");
}

Status Ledger::RecordRollback(const RollbackRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO rollbacks (step_id, reason, checkpoint, at) VALUES (?1, ?2, ?3, ?4)"));
  stmt.Bind(1, r.step_id)
      .Bind(2, Clean(r.reason, kMaxText))
      .BindTextOrNull(3, r.checkpoint)
      .Bind(4, Now());
  return stmt.Run().WithContext("RecordRollback");
}

Status Ledger::RecordApproval(const ApprovalRecord& a) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO approvals (run_id, task_id, step_id, what, decision, decided_by, waited_ms,"
      " reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  stmt.Bind(1, a.run_id)
      .BindTextOrNull(2, a.task_id)
      .Bind(3, a.step_id)
      .Bind(4, Clean(a.what, kMaxText))
      .Bind(5, ToString(a.decision))
      .Bind(6, ToString(a.decided_by))
      .Bind(7, a.waited_ms)
      .Bind(8, Clean(a.reason, kMaxText))
      .Bind(9, Now());
  return stmt.Run().WithContext("RecordApproval");
}

Status Ledger::RecordEscalation(const EscalationRecord& e) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO escalations (run_id, task_id, from_tier, to_tier, action, reason, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.Bind(1, e.run_id)
      .BindTextOrNull(2, e.task_id)
      .Bind(3, e.from_tier)
      .Bind(4, e.to_tier)
      .Bind(5, ToString(e.action))
      .Bind(6, Clean(e.reason, kMaxText))
      .Bind(7, Now());
  return stmt.Run().WithContext("RecordEscalation");
}

Status Ledger::RecordReview(const ReviewRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO reviews (run_id, task_id, step_id, n, verdict, reasons, model, tokens_in,"
      " tokens_out, cost_usd, wait_ms, lines_changed, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  stmt.Bind(1, r.run_id)
      .BindTextOrNull(2, r.task_id)
      .Bind(3, r.step_id)
      .Bind(4, static_cast<int64_t>(r.n))
      .Bind(5, protocol::Name(r.verdict))
      .Bind(6, Clean(r.reasons, kMaxText))
      .Bind(7, Clean(r.model, kMaxShort))
      .Bind(8, r.tokens_in)
      .Bind(9, r.tokens_out)
      .Bind(10, r.cost_usd)
      .Bind(11, r.wait_ms)
      .Bind(12, r.lines_changed)
      .Bind(13, Now());
  return stmt.Run().WithContext("RecordReview");
}

// ---- steering ----

Result<int64_t> Ledger::AddSteerNote(std::string_view run_id, std::string_view note,
                                     std::string_view source, std::string_view task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "INSERT INTO steer_notes (run_id, note, source, at, task_id) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.Bind(1, run_id)
      .Bind(2, Clean(note, kMaxText))
      .Bind(3, Clean(source, kMaxShort))
      .Bind(4, Now())
      .BindTextOrNull(5, Clean(task_id, kMaxShort));
  RETURN_IF_ERROR(stmt.Run().WithContext("AddSteerNote"));
  return db_->LastInsertRowId();
}

Status Ledger::MarkSteerDelivered(int64_t note_id, StepId step) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "UPDATE steer_notes SET delivered_step_id = ?2 WHERE id = ?1 AND delivered_step_id IS NULL"));
  stmt.Bind(1, note_id).Bind(2, step);
  RETURN_IF_ERROR(stmt.Run().WithContext("MarkSteerDelivered"));
  if (db_->Changes() == 0) {
    return NothingChanged(*db_, "steer_notes", "id", std::to_string(note_id), "already delivered");
  }
  return Status::Ok();
}

}  // namespace tandem::ledger
