// Fan-out: N verified variants of one task, ranked, and a person picks
// (`tandem do --variants N`, `tandem variants`, `tandem pick`, `tandem gc`;
// docs/FANOUT.md).
//
// RunFanout starts run <run> (kind "fanout") at a checkpoint of the user's
// checkout, which it never changes. Each variant n runs agent::ExecuteTask
// on a std::jthread of its own, through the whole verified loop (scope, caps,
// retries, gates), in a pooled linked worktree `<run>-slot-K` reset to that
// checkpoint, with a Workspace on run id `<run>.v<n>`: its checkpoints stay
// on refs/tandem/runs/<run>.v<n>/ (the variant's private refs) after the
// pool is removed at the end of the fan-out. Ledger rows carry the run and
// task id "v<n>"; the variants table (ledger VariantRow) holds each one's
// model, temperature, approach, state, tree, diff size, cost, rank, score
// and reasons.
//
// Limits hold for the whole fan-out: limits.max_cost_usd and
// limits.max_wall_s are one budget for all variants together (spend is
// tallied from the agents' model-call events as they happen); when it runs
// out, or when --stop-after K distinct passing trees exist, running
// variants are interrupted (their in-progress step rolled back) and marked
// cancelled, unstarted ones are cancelled. Requests go through the
// provider's shared RateLimiter, so a 429 pauses variants and is retried
// without spending their retry budget: it never loses a variant.
//
// Thread-safety: each function is called from one thread; RunFanout's
// agent threads share only the ledger (thread-safe), the event sink
// (must be thread-safe) and the job budget.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/task_runner.h"
#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/ledger/ledger.h"
#include "tandem/memory/plan_md.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/platform/job_budget.h"
#include "tandem/protocol/event.h"
#include "tandem/verify/gate.h"
#include "tandem/workspace/workspace.h"

namespace tandem::orchestrator {

inline constexpr int kMaxVariants = memory::kMaxPlanVariants;
// Variants running at once unless the caller says otherwise.
inline constexpr int kDefaultFanoutParallel = 8;

// What one variant is asked to be: the diversity strategy's choice.
struct VariantPlan {
  size_t model = 0;                   // index into FanoutEnv::models
  std::optional<double> temperature;  // empty: the provider's default
  std::string approach;               // empty: no hint
};

// The diversity strategy (docs/FANOUT.md): variant i (0-based) uses model
// i mod M of the pool; its round r = i / M picks the temperature: round 0
// the provider's default, then 0.4, 0.8, 1.0, 0.2, 0.6, 0.9, repeating.
// Approach hints, when given, go one per variant in order (cycling when
// fewer than n).
std::vector<VariantPlan> PlanVariants(int n, size_t models,
                                      const std::vector<std::string>& approaches);

// `--approaches`: one call to the planner model (CallPlanner: a ledger
// model call of `planner.run_id`, role planner, its ModelCallFinished event
// on planner.events, its cost added to planner.spend) asking for `n`
// different ways to carry out `goal`, answered as a numbered list; one more
// call when the answer has no numbered item. Returns at most n approaches
// (at least one; the caller cycles through fewer). InvalidArgument when the
// corrected answer still has none; Unavailable with the model's error.
// RunFanout calls it after its run began (FanoutSpec::draft_approaches), so
// the call counts in the fan-out's one budget.
Result<std::vector<std::string>> DraftApproaches(const PlannerEnv& planner, const std::string& goal,
                                                 int n, const std::string& repo_view);
// The numbered items ("1. ...", "2) ...") of an answer, continuation lines
// joined; empty when there are none.
std::vector<std::string> ParseApproaches(std::string_view answer);

// A fan-out that is one task of a plan run (`variants: N` in plan.md;
// plan_runner.h): the variants start from the task's base, not from a
// checkpoint of the checkout (which the plan run's scheduler owns), and the
// fan-out's events are the task's: published in the plan run's scope with
// task id "<task>" (the fan-out's notices) and "<task>.v<n>" (its
// variants), without the fan-out's own run_started / run_finished.
struct FanoutParent {
  std::string run_id;   // the plan run
  std::string task_id;  // the plan task
  workspace::CheckpointId base;  // the integrated checkpoint the task starts from
};

struct FanoutSpec {
  std::string run_id;
  std::string task;
  std::vector<std::string> scope;
  int variants = 1;    // 1..kMaxVariants
  int stop_after = 0;  // end once this many distinct passing trees exist; 0: never
  int parallel = 0;    // variants at once; 0: min(variants, kDefaultFanoutParallel)
  std::vector<std::string> approaches;  // hints, one per variant (may be empty)
  // `--approaches`: before any variant starts, the planner (FanoutEnv::
  // planner) writes `variants` approaches (DraftApproaches), unless
  // `approaches` already holds some.
  bool draft_approaches = false;
  std::string extra_context;  // every variant's (agent::TaskSpec::extra_context)
  std::optional<FanoutParent> parent;  // empty: `tandem do --variants`
};

struct FanoutEnv {
  std::string repo_root;
  config::Config config;
  std::vector<ModelSlot> models;           // the executor pool; at least one
  protocol::EventSink* events = nullptr;   // required, thread-safe
  ledger::Ledger* ledger = nullptr;        // required
  ledger::FanoutLedger* variants = nullptr;  // required: the variants table
  std::vector<verify::Gate> gates;
  std::string gates_source;
  agent::InterruptHub* interrupts = nullptr;  // Ctrl-C
  platform::JobBudget* job_budget = nullptr;
  // The reviewer role's model: with at least two distinct passing
  // candidates, it judges them pairwise (tournament.h) unless
  // config.fanout.tournament is false. Client null (no reviewer) or the key
  // false (`--no-tournament`): the score alone ranks.
  ModelSlot reviewer;
  // The planner role's model, for FanoutSpec::draft_approaches (required
  // then: a null client is an InvalidArgument).
  ModelSlot planner;
  // Optional (a plan task): the task's environment, the template of each
  // variant's (its role, review, tandem_files); the fan-out sets the model,
  // client, workspace, events, interrupts, and the fields above. Not owned.
  const agent::TaskEnv* task_env = nullptr;
  // Optional (a plan task): the hook deciding a variant's irreversible
  // commands, made for the variant's workspace. Empty: the configuration's
  // command policy (refused).
  std::function<tools::IrreversibleCommandHook(workspace::Workspace& ws)> irreversible_commands;
};

// Why a fan-out stopped starting and interrupted its variants, if it did.
// kApproaches: the planner's approaches could not be had (its call failed,
// or twice no numbered list): no variant started.
enum class FanoutStop { kNone, kStopAfter, kCostBudget, kWallBudget, kInterrupt, kApproaches };

struct FanoutResult {
  // kSucceeded: a variant passed; kProviderError: stop == kApproaches.
  protocol::Outcome outcome = protocol::Outcome::kError;
  std::vector<ledger::VariantRow> variants;               // ranked (RankVariants order)
  FanoutStop stop = FanoutStop::kNone;
  double wall_ms = 0;
  std::optional<double> first_pass_ms;  // from the start to the first passing variant
  double cost_usd = 0;                  // the approaches', the variants' and the tournament's
  double approaches_cost_usd = 0;       // the planner's approaches (--approaches)
  std::vector<ledger::ComparisonRow> comparisons;  // the tournament's; empty: none ran
  int64_t tournament_calls = 0;
  double tournament_ms = 0;
  agent::RunTotals totals;  // summed over the variants (they ran side by side)
};

// Runs the fan-out; see the file comment. Errors are tandem's own (git,
// ledger); a variant's failure is a row, not an error.
Result<FanoutResult> RunFanout(const FanoutSpec& spec, const FanoutEnv& env);

// Ranks the variants of one fan-out in place and returns them in rank order
// (docs/FANOUT.md "Ranking"): same tree hash = one candidate (the lowest n
// that passed, else the lowest n, leads; the others get duplicate_of and no
// rank); passing candidates first, by score (100 = best on every measure:
// 40% changed lines, 20% files, 20% gate time, 20% cost, each scaled
// between the best and worst passing candidate), ties by how many variants
// reached the tree, then by n; then every other finished candidate, by n
// (no score); running variants last, unranked. With a tournament's
// `comparisons`, the passing candidates are ordered by TournamentOrder
// (the score seeds the bracket and orders those out in the same round) and
// their reasons say how they fared. Sets rank, score, reasons,
// duplicate_of. Pure: no I/O.
std::vector<ledger::VariantRow> RankVariants(
    std::vector<ledger::VariantRow> variants,
    const std::vector<ledger::ComparisonRow>& comparisons = {});

// A stored fan-out ranked as its end ranked it: its variants through
// RankVariants with its tournament's comparisons, which come along.
struct RankedFanout {
  std::vector<ledger::VariantRow> variants;
  std::vector<ledger::ComparisonRow> comparisons;
};
Result<RankedFanout> LoadRankedFanout(ledger::FanoutLedger& ledger, std::string_view run_id);

// The worktree id of slot `k` of fan-out `fanout_id`: `<fanout_id>-slot-<k>`
// when that is a valid worktree id (workspace::Worktree::IsValidId); else
// (a plan task's fan-out `<run>.<task>.<attempt>` whose task id is long, or
// holds ".."), the id's first 24 characters made valid, a 12-hex-digit
// SHA-256 prefix of the whole id, and `-slot-<k>`: valid, at most 64
// characters, stable for the fan-out, distinct per slot. Pure.
std::string FanoutSlotId(std::string_view fanout_id, int k);

// The ids of leftover fan-out and parallel-run worktrees (`*-slot-*`) are
// removed; returns a line per worktree removed or not removable.
// REQUIRES: the caller holds the repository's writer lock (no live run owns
// them).
std::vector<std::string> RemoveLeftoverSlots(const std::string& repo_root);

struct PickSpec {
  std::string run_id;  // the fan-out
  int64_t variant = 0;
  std::vector<std::string> only;  // paths or globs; empty: the whole variant
};

struct PickEnv {
  std::string repo_root;
  config::Config config;
  protocol::EventSink* events = nullptr;
  ledger::Ledger* ledger = nullptr;
  ledger::FanoutLedger* variants = nullptr;
  std::vector<verify::Gate> gates;
  agent::InterruptHub* interrupts = nullptr;
  platform::JobBudget* job_budget = nullptr;
};

struct PickResult {
  bool applied = false;
  std::string reason;       // why it was refused (gate output, conflict)
  std::string pick_run_id;  // `tandem undo <id>` reverts an applied pick
  std::vector<std::string> paths;  // what it changed (or would have)
  std::optional<int64_t> rank;
};

// Applies variant `spec.variant`'s change (from the fan-out's base to its
// final tree, three-way merged onto the checkout as it is now; restricted
// to `only`) as one checkpointed step of a new run (kind "pick"), then runs
// every gate on the result. Passing: kept, and `tandem undo` reverts it.
// Failing: rolled back and refused with the gates' output. Either way a
// picks row. Errors: NotFound (no such run or variant), FailedPrecondition
// (the variant has no tree, a merge conflict with the checkout, nothing to
// apply, an --only path the variant did not change).
Result<PickResult> PickVariant(const PickSpec& spec, const PickEnv& env);

struct GcResult {
  std::vector<std::string> lines;  // what was removed, one line each
  int runs_forgotten = 0;          // fan-outs whose variant refs were deleted
  int refs_deleted = 0;
};

// `tandem gc`: recovers what a killed process left (RecoverInterrupted,
// variants of dead runs -> interrupted), removes leftover slot worktrees,
// and deletes the private refs of variants of fan-outs that ended more than
// `keep_ms` before `now_ms`. REQUIRES: the writer lock.
Result<GcResult> CollectGarbage(const std::string& repo_root, ledger::Ledger& ledger,
                                ledger::FanoutLedger& variants, int64_t keep_ms, int64_t now_ms);

}  // namespace tandem::orchestrator
