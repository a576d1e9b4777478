#include "tandem/ledger/migrations.h"

#include <string>

#include "tandem/ledger/try.h"

namespace tandem::ledger {
namespace {

// Version 1: the verified executor loop (issue #3): runs, steps, model and
// tool calls, gate runs, rollbacks.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE runs (
  id               TEXT PRIMARY KEY,
  kind             TEXT NOT NULL,
  goal             TEXT NOT NULL DEFAULT '',
  repo             TEXT NOT NULL DEFAULT '',
  started_at       INTEGER NOT NULL,
  ended_at         INTEGER,
  outcome          TEXT NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running','succeeded','failed','interrupted','cancelled')),
  exit_code        INTEGER,
  base_checkpoint  TEXT,
  final_checkpoint TEXT,
  pid              INTEGER NOT NULL DEFAULT 0,
  pid_start_ticks  INTEGER NOT NULL DEFAULT 0,
  boot_id          TEXT NOT NULL DEFAULT '',
  steps            INTEGER NOT NULL DEFAULT 0,
  retries          INTEGER NOT NULL DEFAULT 0,
  tokens_in        INTEGER NOT NULL DEFAULT 0,
  tokens_out       INTEGER NOT NULL DEFAULT 0,
  tokens_cached    INTEGER NOT NULL DEFAULT 0,
  cost_usd         REAL NOT NULL DEFAULT 0,
  wall_ms          INTEGER NOT NULL DEFAULT 0,
  model_ms         INTEGER NOT NULL DEFAULT 0,
  tool_ms          INTEGER NOT NULL DEFAULT 0,
  gate_ms          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX runs_by_kind ON runs(kind, started_at);
CREATE INDEX runs_running ON runs(outcome) WHERE outcome = 'running';

CREATE TABLE steps (
  id                INTEGER PRIMARY KEY,
  run_id            TEXT NOT NULL REFERENCES runs(id),
  task_id           TEXT,
  n                 INTEGER NOT NULL,
  attempt           INTEGER NOT NULL DEFAULT 1,
  started_at        INTEGER NOT NULL,
  ended_at          INTEGER,
  state             TEXT NOT NULL DEFAULT 'running'
                    CHECK (state IN ('running','done','rolled_back','interrupted')),
  checkpoint_before TEXT,
  checkpoint_after  TEXT,
  lines_changed     INTEGER NOT NULL DEFAULT 0,
  files_changed     INTEGER NOT NULL DEFAULT 0,
  note              TEXT NOT NULL DEFAULT '',
  UNIQUE (run_id, n)
) STRICT;
CREATE INDEX steps_running ON steps(run_id) WHERE state = 'running';

CREATE TABLE model_calls (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs(id),
  step_id       INTEGER REFERENCES steps(id),
  role          TEXT NOT NULL DEFAULT '',
  provider      TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  tokens_in     INTEGER NOT NULL DEFAULT 0,
  tokens_out    INTEGER NOT NULL DEFAULT 0,
  tokens_cached INTEGER NOT NULL DEFAULT 0,
  cache_write   INTEGER NOT NULL DEFAULT 0,
  cost_usd      REAL NOT NULL DEFAULT 0,
  ttft_ms       INTEGER NOT NULL DEFAULT 0,
  duration_ms   INTEGER NOT NULL DEFAULT 0,
  tokens_per_s  REAL NOT NULL DEFAULT 0,
  retries       INTEGER NOT NULL DEFAULT 0,
  error_kind    TEXT,
  at            INTEGER NOT NULL
) STRICT;
CREATE INDEX model_calls_by_run ON model_calls(run_id);

CREATE TABLE tool_calls (
  id           INTEGER PRIMARY KEY,
  step_id      INTEGER NOT NULL REFERENCES steps(id),
  name         TEXT NOT NULL,
  args_summary TEXT NOT NULL DEFAULT '',
  outcome      TEXT NOT NULL CHECK (outcome IN ('ok','error','refused')),
  duration_ms  INTEGER NOT NULL DEFAULT 0,
  detail       TEXT NOT NULL DEFAULT '',
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX tool_calls_by_step ON tool_calls(step_id);

CREATE TABLE gate_runs (
  id             INTEGER PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES runs(id),
  step_id        INTEGER REFERENCES steps(id),
  gate           TEXT NOT NULL,
  command        TEXT NOT NULL DEFAULT '',
  tree_hash      TEXT NOT NULL,
  verdict        TEXT NOT NULL CHECK (verdict IN ('pass','fail','error','cached')),
  duration_ms    INTEGER NOT NULL DEFAULT 0,
  exit_code      INTEGER,
  output_excerpt TEXT NOT NULL DEFAULT '',
  at             INTEGER NOT NULL
) STRICT;
CREATE INDEX gate_runs_cache ON gate_runs(tree_hash, gate, command, at)
  WHERE verdict IN ('pass','fail');
CREATE INDEX gate_runs_by_run ON gate_runs(run_id);

CREATE TABLE rollbacks (
  id         INTEGER PRIMARY KEY,
  step_id    INTEGER NOT NULL REFERENCES steps(id),
  reason     TEXT NOT NULL DEFAULT '',
  checkpoint TEXT,
  at         INTEGER NOT NULL
) STRICT;
CREATE INDEX rollbacks_by_step ON rollbacks(step_id);
)sql";

// Version 2: plans, tiers, approvals, steering (issue #4).
constexpr std::string_view kV2 = R"sql(
ALTER TABLE runs ADD COLUMN human_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE model_calls ADD COLUMN tier TEXT NOT NULL DEFAULT '';

CREATE TABLE tasks (
  run_id         TEXT NOT NULL REFERENCES runs(id),
  task_id        TEXT NOT NULL,
  title          TEXT NOT NULL DEFAULT '',
  risk           TEXT NOT NULL DEFAULT 'reversible' CHECK (risk IN ('reversible','irreversible')),
  tier           TEXT NOT NULL DEFAULT '',
  state          TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending','running','done','failed','skipped','waiting_approval')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  started_at     INTEGER,
  ended_at       INTEGER,
  outcome_detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, task_id)
) STRICT;

CREATE TABLE approvals (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT NOT NULL REFERENCES runs(id),
  task_id    TEXT,
  step_id    INTEGER REFERENCES steps(id),
  what       TEXT NOT NULL DEFAULT '',
  decision   TEXT NOT NULL CHECK (decision IN ('approved','denied')),
  decided_by TEXT NOT NULL CHECK (decided_by IN ('person','policy')),
  waited_ms  INTEGER NOT NULL DEFAULT 0,
  reason     TEXT NOT NULL DEFAULT '',
  at         INTEGER NOT NULL
) STRICT;
CREATE INDEX approvals_by_run ON approvals(run_id);

CREATE TABLE escalations (
  id        INTEGER PRIMARY KEY,
  run_id    TEXT NOT NULL REFERENCES runs(id),
  task_id   TEXT,
  from_tier TEXT NOT NULL DEFAULT '',
  to_tier   TEXT NOT NULL DEFAULT '',
  action    TEXT NOT NULL CHECK (action IN ('replan','split','escalate')),
  reason    TEXT NOT NULL DEFAULT '',
  at        INTEGER NOT NULL
) STRICT;
CREATE INDEX escalations_by_run ON escalations(run_id);

CREATE TABLE steer_notes (
  id                INTEGER PRIMARY KEY,
  run_id            TEXT NOT NULL REFERENCES runs(id),
  note              TEXT NOT NULL,
  source            TEXT NOT NULL DEFAULT '',
  at                INTEGER NOT NULL,
  delivered_step_id INTEGER REFERENCES steps(id)
) STRICT;
CREATE INDEX steer_notes_pending ON steer_notes(run_id) WHERE delivered_step_id IS NULL;
)sql";

// Parallel plan tasks: a steering note for one task (NULL: any task).
constexpr std::string_view kV3 = R"sql(
ALTER TABLE steer_notes ADD COLUMN task_id TEXT;
)sql";

// Fan-out (issue 10): the variants of `tandem do --variants N` and the
// picks a person made among them.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE variants (
  run_id           TEXT NOT NULL REFERENCES runs(id),
  n                INTEGER NOT NULL,
  model            TEXT NOT NULL DEFAULT '',
  temperature      REAL,
  approach         TEXT NOT NULL DEFAULT '',
  state            TEXT NOT NULL DEFAULT 'running'
                   CHECK (state IN ('running','passed','failed','cancelled','interrupted','error')),
  detail           TEXT NOT NULL DEFAULT '',
  final_checkpoint TEXT,
  tree_hash        TEXT,
  duplicate_of     INTEGER,
  lines_added      INTEGER NOT NULL DEFAULT 0,
  lines_removed    INTEGER NOT NULL DEFAULT 0,
  files            INTEGER NOT NULL DEFAULT 0,
  tokens_in        INTEGER NOT NULL DEFAULT 0,
  tokens_out       INTEGER NOT NULL DEFAULT 0,
  cost_usd         REAL NOT NULL DEFAULT 0,
  wall_ms          INTEGER NOT NULL DEFAULT 0,
  gate_ms          INTEGER NOT NULL DEFAULT 0,
  rank             INTEGER,
  score            REAL,
  reasons          TEXT NOT NULL DEFAULT '',
  started_at       INTEGER NOT NULL,
  ended_at         INTEGER,
  PRIMARY KEY (run_id, n)
) STRICT;

CREATE TABLE picks (
  id          INTEGER PRIMARY KEY,
  run_id      TEXT NOT NULL REFERENCES runs(id),
  variant     INTEGER NOT NULL,
  rank        INTEGER,
  paths       TEXT NOT NULL DEFAULT '',
  pick_run_id TEXT,
  applied     INTEGER NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  waited_ms   INTEGER NOT NULL DEFAULT 0,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX picks_by_run ON picks(run_id);
)sql";

// Skills: which skills each task saw, how it ended, and restores of flagged ones.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE skill_uses (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT NOT NULL REFERENCES runs(id),
  task_id    TEXT NOT NULL DEFAULT '',
  skill      TEXT NOT NULL,
  injected   INTEGER NOT NULL,
  forced     INTEGER NOT NULL DEFAULT 0,
  score      REAL NOT NULL DEFAULT 0,
  tokens     INTEGER NOT NULL DEFAULT 0,
  source     TEXT NOT NULL DEFAULT '',
  eval       INTEGER NOT NULL DEFAULT 0,
  at         INTEGER NOT NULL,
  outcome    TEXT,
  steps      INTEGER,
  task_tokens INTEGER,
  cost_usd   REAL,
  wall_ms    INTEGER,
  ended_at   INTEGER
) STRICT;
CREATE INDEX skill_uses_by_skill ON skill_uses(skill);
CREATE INDEX skill_uses_by_task ON skill_uses(run_id, task_id);

CREATE TABLE skill_restores (
  id     INTEGER PRIMARY KEY,
  skill  TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  at     INTEGER NOT NULL
) STRICT;
)sql";

// Review before done (issue #11): the reviewer's verdicts.
constexpr std::string_view kV6 = R"sql(
CREATE TABLE reviews (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs(id),
  task_id       TEXT,
  step_id       INTEGER REFERENCES steps(id),
  n             INTEGER NOT NULL DEFAULT 1,
  verdict       TEXT NOT NULL CHECK (verdict IN ('approve','request_changes','error')),
  reasons       TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  tokens_in     INTEGER NOT NULL DEFAULT 0,
  tokens_out    INTEGER NOT NULL DEFAULT 0,
  cost_usd      REAL NOT NULL DEFAULT 0,
  wait_ms       INTEGER NOT NULL DEFAULT 0,
  lines_changed INTEGER NOT NULL DEFAULT 0,
  at            INTEGER NOT NULL
) STRICT;
CREATE INDEX reviews_by_run ON reviews(run_id);
)sql";

// Fan-out tournament (issue 10): the reviewer's pairwise comparisons of a
// fan-out's passing variants.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE comparisons (
  id          INTEGER PRIMARY KEY,
  run_id      TEXT NOT NULL REFERENCES runs(id),
  round       INTEGER NOT NULL,
  match       INTEGER NOT NULL,
  a           INTEGER NOT NULL,
  b           INTEGER NOT NULL,
  shown_first INTEGER NOT NULL,
  winner      INTEGER NOT NULL,
  decided_by  TEXT NOT NULL CHECK (decided_by IN ('reviewer','score')),
  reason      TEXT NOT NULL DEFAULT '',
  model       TEXT NOT NULL DEFAULT '',
  calls       INTEGER NOT NULL DEFAULT 0,
  tokens_in   INTEGER NOT NULL DEFAULT 0,
  tokens_out  INTEGER NOT NULL DEFAULT 0,
  cost_usd    REAL NOT NULL DEFAULT 0,
  wall_ms     INTEGER NOT NULL DEFAULT 0,
  at          INTEGER NOT NULL,
  UNIQUE (run_id, match)
) STRICT;
)sql";

constexpr Migration kMigrations[] = {
    {1, "executor loop: runs, steps, model/tool calls, gate runs, rollbacks", kV1},
    {2, "plans and tiers: tasks, approvals, escalations, steer notes, human_ms, model tier", kV2},
    {3, "parallel plan tasks: steer_notes.task_id", kV3},
    {4, "fan-out: variants and picks", kV4},
    {5, "skills: skill_uses, skill_restores", kV5},
    {6, "review before done: reviews", kV6},
    {7, "fan-out tournament: comparisons", kV7},
};

constexpr std::string_view kCreateVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
) STRICT;
)sql";

Status TooNew(const Db& db, int version) {
  return FailedPrecondition(db.path() + " has ledger schema version " + std::to_string(version) +
                            ", newer than this tandem knows (" +
                            std::to_string(CurrentSchemaVersion()) +
                            "); upgrade tandem to use it (the file was not modified)");
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int CurrentSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> SchemaVersion(Db& db) {
  int64_t has_table = LEDGER_TRY(db.QueryInt(
      "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'"));
  if (has_table == 0) return 0;
  return static_cast<int>(
      LEDGER_TRY(db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version")));
}

Status Migrate(Db& db, int64_t now_ms, int target) {
  int version = LEDGER_TRY(SchemaVersion(db));
  if (version > CurrentSchemaVersion()) return TooNew(db, version);
  while (version < target) {
    Transaction txn = LEDGER_TRY(Transaction::Begin(db));
    // Another process may have migrated since we looked; re-read under the lock.
    version = LEDGER_TRY(SchemaVersion(db));
    if (version > CurrentSchemaVersion()) return TooNew(db, version);
    if (version >= target) break;
    const Migration& m = kMigrations[version];
    RETURN_IF_ERROR(db.Exec(kCreateVersionTable));
    Status applied = db.Exec(m.sql);
    if (!applied.ok()) {
      return applied.WithContext("ledger migration " + std::to_string(m.version) + " failed");
    }
    Statement insert = LEDGER_TRY(db.PrepareUncached(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?1, ?2, ?3)"));
    insert.Bind(1, m.version).Bind(2, m.description).Bind(3, now_ms);
    RETURN_IF_ERROR(insert.Run());
    RETURN_IF_ERROR(txn.Commit());
    version = m.version;
  }
  return Status::Ok();
}

}  // namespace tandem::ledger
