// FanoutLedger: the ledger's rows for fan-outs (`tandem do --variants N`,
// orchestrator/fanout.h): the `variants` and `picks` tables (schema v4,
// docs/LEDGER.md), plus the reads `tandem variants`, `pick` and `gc` need.
//
// It is a second connection to the same ledger file, opened after the
// repository's Ledger (which applied the migrations): the fan-out's own
// rows live apart from ledger.h, which most of tandem includes. SQLite
// serializes its writes with the Ledger's (WAL, busy timeout); free text is
// redacted and truncated as the Ledger does; timestamps come from the
// injected clock.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"
#include "tandem/ledger/records.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::ledger {

class Db;

// A variant's state and a comparison's decider are the shared vocabulary's
// (protocol/vocabulary.h); the columns store protocol::Name's spelling.
using protocol::ComparisonDecider;
using protocol::ParseComparisonDecider;
using protocol::ParseVariantState;
using protocol::VariantState;
std::string_view ToString(VariantState v);
std::string_view ToString(ComparisonDecider d);

// UpsertVariant's input and ListVariants' output. started_at is stamped on
// the first upsert, ended_at when the state leaves kRunning.
struct VariantRow {
  std::string run_id{};  // the fan-out's run
  int64_t n = 0;         // 1-based
  std::string model{};   // key under [models]
  std::optional<double> temperature{};  // empty: the provider's default
  std::string approach{};               // the planner's hint for it, if any
  VariantState state = VariantState::kRunning;
  std::string detail{};  // why it failed or stopped; the agent's summary
  std::string final_checkpoint{};
  std::string tree_hash{};
  std::optional<int64_t> duplicate_of{};  // the variant leading the same tree
  int64_t lines_added = 0;
  int64_t lines_removed = 0;
  int64_t files = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  int64_t wall_ms = 0;
  int64_t gate_ms = 0;
  std::optional<int64_t> rank{};  // 1 = best; empty for duplicates and running ones
  std::optional<double> score{};  // 0-100, passing candidates only
  std::string reasons{};          // why this rank (docs/FANOUT.md)
  int64_t started_at = 0;
  std::optional<int64_t> ended_at{};
};

// A person's pick among a fan-out's variants (applied or refused).
struct PickRecord {
  int64_t id = 0;        // set by ListPicks
  std::string run_id{};  // the fan-out's run
  int64_t variant = 0;
  std::optional<int64_t> rank{};  // the variant's rank at the time
  std::string paths{};            // --only paths, one per line; empty: the whole variant
  std::string pick_run_id{};      // the pick's own run (what `tandem undo` reverts)
  bool applied = false;
  std::string reason{};   // why it was refused
  int64_t waited_ms = 0;  // from the fan-out's end to the pick: the person's time
  int64_t at = 0;         // set by the ledger
};

// One comparison of a fan-out's tournament (orchestrator/tournament.h): two
// passing variants judged against the task by the reviewer model, or by the
// score when it gave no verdict.
struct ComparisonRow {
  int64_t id = 0;        // set by ListComparisons
  std::string run_id{};  // the fan-out's run
  int64_t round = 0;     // 1 = the first round of the bracket
  int64_t match = 0;     // the bracket's match number (1-based, unique in the run)
  int64_t a = 0;         // the better-seeded variant (its n)
  int64_t b = 0;         // the other one
  int64_t shown_first = 0;  // which of the two the reviewer saw as candidate A
  int64_t winner = 0;       // a or b
  ComparisonDecider decided_by = ComparisonDecider::kScore;
  std::string reason{};  // the reviewer's reason, or why the score decided
  std::string model{};   // the reviewer's model; empty: no call was made
  int64_t calls = 0;     // model calls made (0-2: a reply without the tool is asked once more)
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  int64_t wall_ms = 0;
  int64_t at = 0;  // set by the ledger
};

// The model calls one role made in a run, summed (CallsByRole).
struct RoleCallTally {
  int64_t calls = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  std::string model{};  // the model id of the last call
};

class FanoutLedger {
 public:
  // A connection to `ledger`'s file. Errors: Io/FailedPrecondition from
  // SQLite; InvalidArgument without a clock.
  static Result<std::unique_ptr<FanoutLedger>> Open(const Ledger& ledger, Clock clock);
  ~FanoutLedger();

  // Inserts or replaces variant (run_id, n).
  Status UpsertVariant(const VariantRow& variant);
  // The run's variants in order of n.
  Result<std::vector<VariantRow>> ListVariants(std::string_view run_id);
  // Variants still 'running' in runs that are no longer running (closed
  // after their process died) become 'interrupted'. Returns how many.
  Result<int64_t> CloseInterruptedVariants();
  // Runs of `kind` that ended before `before_ms`, oldest first.
  Result<std::vector<RunRow>> RunsEndedBefore(std::string_view kind, int64_t before_ms);
  // The fan-outs of plan run `run_id` (its plan.md tasks with `variants:
  // N`, orchestrator/plan_runner_fanout.cc): the runs of kind "fanout" whose
  // id is `<run_id>.<task>.<attempt>`, oldest first. Empty for any other run.
  Result<std::vector<RunRow>> FanoutsOf(std::string_view run_id);
  // The gate rows of task `task_id` of run `run_id` (through its steps),
  // oldest first: `tandem variants show` prints the last of each gate.
  Result<std::vector<GateRunRecord>> TaskGateRuns(std::string_view run_id,
                                                  std::string_view task_id);
  // The model calls of run `run_id` made by `role` ("planner": a fan-out's
  // --approaches), summed; calls 0 when there are none.
  Result<RoleCallTally> CallsByRole(std::string_view run_id, std::string_view role);
  // Records a pick (applied or refused); returns its id.
  Result<int64_t> RecordPick(const PickRecord& pick);
  // The run's picks, oldest first.
  Result<std::vector<PickRecord>> ListPicks(std::string_view run_id);
  // Records one tournament comparison (schema v7); the reason is redacted
  // and truncated. AlreadyExists-like SQLite error for a (run, match) taken.
  Status RecordComparison(const ComparisonRow& comparison);
  // The run's comparisons in order of match.
  Result<std::vector<ComparisonRow>> ListComparisons(std::string_view run_id);

 private:
  FanoutLedger(Clock clock, std::unique_ptr<Db> db);
  Clock clock_;
  std::mutex mu_;
  std::unique_ptr<Db> db_;  // guarded by mu_
};

}  // namespace tandem::ledger
