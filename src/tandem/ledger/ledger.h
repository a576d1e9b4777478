// Ledger: the durable record of everything tandem does, in SQLite at
// <git common dir>/tandem/ledger.db (git_dirs.h LedgerPathFor; schema and
// queries: docs/LEDGER.md).
//
// Runs, tasks, steps, model and tool calls, gate runs (which double as the
// gate cache by tree hash), rollbacks, approvals, escalations and steer
// notes. `tandem resume`, `status` and `stats` read it back; a new process
// resumes from it alone.
//
// Durability: the database is in WAL mode. Every record function commits
// before it returns, so a kill -9 loses nothing already recorded, and a step's
// rows are committed before EndStep returns. With Durability::kPowerLoss,
// BeginRun/EndStep/EndRun also fsync, so the rows survive a power loss too.
//
// Secrets: every free-text field (goal, title, note, reason, what,
// args_summary, detail, output_excerpt, ...) passes through Redactor::Apply
// and is truncated (UTF-8 safe) before it is stored.
//
// Time: the ledger never reads the clock; it calls the injected Clock for
// every timestamp, so tests are deterministic.
//
// Thread-safety: all methods may be called from any thread (one mutex
// serializes them). Several processes may open the same file: writers wait
// up to busy_timeout_ms for each other.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/ledger/records.h"
#include "tandem/ledger/stats.h"

namespace tandem::ledger {

class Db;

// Milliseconds since the Unix epoch.
using Clock = std::function<int64_t()>;

// What a recorded row survives (measured and argued in docs/LEDGER.md).
enum class Durability {
  // synchronous=NORMAL: every commit is a write() into the WAL, so it
  // survives kill -9 and crashes of tandem; a power loss may drop the last
  // commits (never corrupts). Matches the working tree and git refs, which
  // are not fsynced either. The default.
  kProcessCrash,
  // As above, plus BeginRun, EndStep and EndRun commit with an fsync of the
  // WAL, so a step's rows survive a power loss once EndStep returns. Costs
  // one fsync per step (milliseconds on common disks).
  kPowerLoss,
};

struct LedgerOptions {
  std::filesystem::path path;  // usually LedgerPathFor(repo_root) (git_dirs.h)
  Clock clock;                 // required
  Durability durability = Durability::kProcessCrash;
  int busy_timeout_ms = 10000;
};

// RunSummary's result: the run, its tasks, live totals and counts.
struct RunReport {
  RunRow run{};
  std::vector<TaskRow> tasks{};
  RunTotals totals{};  // derived from the rows now (valid while the run is going)
  int64_t steps_done = 0;
  int64_t steps_rolled_back = 0;
  int64_t steps_interrupted = 0;
  int64_t model_calls = 0;
  int64_t tool_calls = 0;
  int64_t tool_errors = 0;
  int64_t tool_refusals = 0;
  int64_t gate_runs = 0;  // executions, cache hits excluded
  int64_t gate_failures = 0;
  int64_t gate_cache_hits = 0;
  int64_t rollbacks = 0;
  int64_t escalations = 0;
  int64_t approvals = 0;
  int64_t denials = 0;
  int64_t steer_notes = 0;
};

class Ledger {
 public:
  // Opens or creates the ledger (and its parent directory), switches it to
  // WAL, and migrates an older schema to the current one. Errors:
  // FailedPrecondition when the file is not a SQLite database (the file is
  // left untouched) or its schema is newer than this build knows;
  // InvalidArgument without a clock; Io when the directory cannot be made.
  static Result<std::unique_ptr<Ledger>> Open(LedgerOptions options);
  ~Ledger();

  // Moves the ledger at `from`, where an earlier tandem kept it in the
  // working tree (git_dirs.h LegacyLedgerPathFor), to `to`: copied through
  // SQLite (VACUUM INTO, so commits still in its WAL come along) into a
  // temporary file beside `to`, which then takes the name `to` unless another
  // process moved it there first; then `from` and its -wal and -shm go.
  // REQUIRES: the caller has found `from` to be the user's own file, not the
  // repository's content (this reads it).
  // Errors: FailedPrecondition when `from` is not a SQLite database, Io; on
  // error `from` is left as it was and `to` is not created.
  static Status MoveLegacy(const std::filesystem::path& from, const std::filesystem::path& to);

  // ---- runs ----
  // Starts run `start.id` (outcome running) owned by `start.owner` or the
  // calling process. AlreadyExists when the id is taken.
  Status BeginRun(const RunStart& start);
  // Ends a running run: steps still running become interrupted, totals are
  // stored (derived from rows unless given), outcome/exit code/final
  // checkpoint set. Another process may end a run whose owner died.
  // REQUIRES: end.outcome != kRunning. FailedPrecondition if already ended.
  Status EndRun(std::string_view run_id, const RunEnd& end);
  // For `tandem resume`: takes over run `run_id` for the calling process,
  // marking its running steps interrupted and its outcome running again.
  // FailedPrecondition when the run succeeded or its owner is still alive.
  // Restore the checkpoints of FindInterruptedSteps(run_id) before calling.
  Status AdoptRun(std::string_view run_id);

  // ---- tasks ----
  // Inserts or replaces the task (run_id, task_id). Stamps started_at the
  // first time the state is running, ended_at when it becomes done, failed
  // or skipped (cleared if it leaves those states).
  Status UpsertTask(const TaskRow& task);

  // ---- steps ----
  // Starts the next step (n = previous n + 1) of a running run.
  // FailedPrecondition when the run is not running.
  Result<StepId> BeginStep(const StepStart& start);
  // Ends a running step. REQUIRES: end.state != kRunning.
  // FailedPrecondition when the step already ended, NotFound when unknown.
  Status EndStep(StepId step, const StepEnd& end);

  // ---- events within a run ----
  Status RecordModelCall(const ModelCallRecord& call);
  Status RecordToolCall(const ToolCallRecord& call);
  Status RecordGateRun(const GateRunRecord& gate);
  Status RecordRollback(const RollbackRecord& rollback);
  Status RecordApproval(const ApprovalRecord& approval);
  Status RecordEscalation(const EscalationRecord& escalation);
  Status RecordReview(const ReviewRecord& review);

  // ---- steering ----
  // Adds a note for the run's next step (of task `task_id` only, when not
  // empty); returns its id.
  Result<int64_t> AddSteerNote(std::string_view run_id, std::string_view note,
                               std::string_view source, std::string_view task_id = {});
  // Notes not yet delivered, oldest first.
  Result<std::vector<SteerNote>> PendingSteerNotes(std::string_view run_id);
  // FailedPrecondition when already delivered, NotFound when unknown.
  Status MarkSteerDelivered(int64_t note_id, StepId step);

  // ---- skills ----
  // Records the skills task (run_id, task_id) saw in its first request (or
  // its comparison arm). A task records its uses once, before its first step.
  Status RecordSkillUses(std::string_view run_id, std::string_view task_id,
                         const std::vector<SkillUse>& uses);
  // Stamps how the task ended on its skill rows that have no end yet.
  Status EndSkillUses(std::string_view run_id, std::string_view task_id, const SkillUseEnd& end);
  // Counts per skill over the ended rows, eval rows included, by skill name.
  Result<std::vector<SkillCounts>> SkillStats();
  // A person (or a passing eval) restores a flagged skill: replays before
  // now no longer count towards flagging it.
  Status RestoreSkill(std::string_view skill, std::string_view reason);

  // ---- queries ----
  Result<std::optional<RunRow>> GetRun(std::string_view run_id);
  // The most recently started run of `kind` (any kind when empty).
  Result<std::optional<RunRow>> LastRun(std::string_view kind = {});
  // Runs marked running whose owner process is alive.
  Result<std::vector<RunRow>> ActiveRuns();
  // Runs marked running whose owner process is gone (crash, kill -9, reboot).
  Result<std::vector<RunRow>> FindOrphanedRuns();
  // Steps still marked running in runs whose owner process is gone: the
  // steps to roll back to checkpoint_before. All runs when run_id is empty.
  Result<std::vector<StepRow>> FindInterruptedSteps(std::string_view run_id = {});
  Result<std::vector<TaskRow>> ListTasks(std::string_view run_id);
  Result<std::vector<StepRow>> ListSteps(std::string_view run_id);
  // How many escalations each task of run `run_id` has had (a resumed run
  // counts them against its budget); tasks without any are absent.
  Result<std::map<std::string, int>> EscalationCounts(std::string_view run_id);
  // The latest step of task `task_id` in run `run_id` still running, if any.
  Result<std::optional<StepId>> RunningStepOf(std::string_view run_id, std::string_view task_id);
  // The runs that changed the tree (undo runs excluded), newest first.
  struct UndoableRun {
    std::string run_id;
    std::string undone_by;  // the succeeded undo run that undid it; empty: none
  };
  Result<std::vector<UndoableRun>> UndoableRuns();
  // The latest pass/fail verdict recorded for this gate command on this
  // tree, if any (errors and cache hits are never served from the cache).
  Result<std::optional<CachedGate>> GateCacheLookup(std::string_view tree_hash,
                                                    std::string_view gate,
                                                    std::string_view command);
  // NotFound for an unknown run.
  Result<RunReport> RunSummary(std::string_view run_id);

  // The newest `per_model` successful calls (a time to first token and
  // output recorded) of each provider and model, oldest first: the seed of
  // routing by measured speed and `tandem models`. O(calls) with the index.
  Result<std::vector<ModelSpeedRow>> RecentModelCalls(int per_model);

  // ---- stats ----
  Result<std::vector<TierStatsRow>> TierStats(const StatsFilter& filter);
  Result<RunStatsRow> RunStats(const StatsFilter& filter);
  // Runs one read-only SQL statement with positional parameters (?1, ?2,
  // ...). PermissionDenied for a statement that would write.
  Result<QueryResult> Query(std::string_view sql, const std::vector<SqlValue>& params = {});

  // Database integrity plus the ledger's own invariants. Returns one line
  // per problem; empty means healthy.
  Result<std::vector<std::string>> IntegrityCheck();

  const std::filesystem::path& path() const { return options_.path; }

 private:
  Ledger(LedgerOptions options, std::unique_ptr<Db> db);

  int64_t Now() const { return options_.clock(); }
  // Runs `write` so its commit is fsynced under kPowerLoss.
  template <typename F>
  Status Durably(F&& write);
  Result<RunTotals> ComputeTotals(std::string_view run_id, int64_t now);
  Result<std::vector<RunRow>> RunningRuns();

  const LedgerOptions options_;
  std::mutex mu_;
  std::unique_ptr<Db> db_;  // guarded by mu_
};

}  // namespace tandem::ledger
