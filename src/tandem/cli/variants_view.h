// How `tandem variants`, `tandem variants show` and the end of a fan-out
// show a fan-out's ranked variants: a table that fits 80 columns (wider
// terminals get wider model and approach columns), and JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/ledger/ledger.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/ledger/records.h"

namespace tandem::cli {

// The fan-out rows of `ledger`'s file (ledger/fanout_ledger.h); on failure
// prints the error (`err`) and returns kExitInternal.
Result<std::unique_ptr<ledger::FanoutLedger>, ExitCode> OpenFanoutLedger(
    const ledger::Ledger& ledger, std::FILE* err = stderr);

// The terminal's width: $COLUMNS, else the tty's, else 80.
int TerminalWidth();

// The table of `ranked` (orchestrator::RankVariants order) for fan-out
// `run`, at most `width` columns wide (80 at least is assumed), with a
// header and `picked` (the variants picked so far). With a tournament's
// `comparisons`, a "w-l" column (each variant's wins and losses) and a
// header line saying who judged.
std::string FormatVariantsTable(const ledger::RunRow& run,
                                const std::vector<ledger::VariantRow>& ranked,
                                const std::vector<ledger::PickRecord>& picks, int width,
                                const std::vector<ledger::ComparisonRow>& comparisons = {});

// {"run":..., "cost_usd": the whole fan-out's spend, "variants":[{rank, n,
// model, ..., "tournament": {wins, losses} or null}], "picks":[...],
// "comparisons":[...]}
nlohmann::json VariantsToJson(const ledger::RunRow& run,
                              const std::vector<ledger::VariantRow>& ranked,
                              const std::vector<ledger::PickRecord>& picks,
                              const std::vector<ledger::ComparisonRow>& comparisons = {});
// [{round, match, a, b, shown_first, winner, decided_by, reason, model,
// calls, tokens_in, tokens_out, cost_usd, wall_ms}]
nlohmann::json ComparisonsToJson(const std::vector<ledger::ComparisonRow>& comparisons);

// One fan-out of a plan run (a plan.md task with `variants: N`), as
// `tandem variants PLANRUN` lists it.
struct FanoutSummary {
  ledger::RunRow run;   // the fan-out's own run, `<plan run>.<task>.<attempt>`
  std::string task;     // the plan task, from the id
  int64_t attempt = 0;  // 0 when the id does not end in one
  int64_t variants = 0;
  int64_t passed = 0;
  std::map<std::string, int64_t> states;  // variants by state spelling
  std::optional<int64_t> winner;          // the top-ranked passing variant
  double cost_usd = 0;  // the run's (variants, tournament, approaches) once ended
};
// `ranked`: the fan-out's variants (orchestrator::LoadRankedFanout).
FanoutSummary SummarizeFanout(const std::string& plan_run, const ledger::RunRow& fanout,
                              const std::vector<ledger::VariantRow>& ranked);
// One line per fan-out (task, attempt, outcome, passed, winner, cost and the
// id `tandem variants ID` takes), under a header naming the plan run; fits
// 80 columns while task ids do (longer ones are cut, ids never).
std::string FormatFanoutsTable(const ledger::RunRow& plan_run,
                               const std::vector<FanoutSummary>& fanouts, int width);
// {"run":..., "kind":..., "fanouts":[{id, task, attempt, outcome, goal,
// variants, passed, states:{...}, winner (n or null), cost_usd}]}
nlohmann::json FanoutsToJson(const ledger::RunRow& plan_run,
                             const std::vector<FanoutSummary>& fanouts);

struct VariantRef {
  std::string run_id;
  int64_t n = 0;  // 0: the run only
};
// Reads "3", "v3", "RUN/3", "RUN/v3" or "RUN.v3" (the variant's own run
// id); without RUN, the last fan-out's. `run_only` accepts just "RUN" (or
// nothing). NotFound when there is no fan-out; InvalidArgument for text
// that is none of these.
Result<VariantRef> ResolveVariant(ledger::Ledger& ledger, const std::string& text,
                                  bool run_only);

// "12.3k" tokens, "$0.0012", "12.1s"
std::string CompactCount(int64_t n);

}  // namespace tandem::cli
