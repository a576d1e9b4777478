// How `tandem variants`, `tandem variants show` and the end of a fan-out
// show a fan-out's ranked variants: a table that fits 80 columns (wider
// terminals get wider model and approach columns), and JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdio>
#include <memory>
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

// {"run":..., "variants":[{rank, n, model, ..., "tournament": {wins, losses}
// or null}], "picks":[...], "comparisons":[...]}
nlohmann::json VariantsToJson(const ledger::RunRow& run,
                              const std::vector<ledger::VariantRow>& ranked,
                              const std::vector<ledger::PickRecord>& picks,
                              const std::vector<ledger::ComparisonRow>& comparisons = {});
// [{round, match, a, b, shown_first, winner, decided_by, reason, model,
// calls, tokens_in, tokens_out, cost_usd, wall_ms}]
nlohmann::json ComparisonsToJson(const std::vector<ledger::ComparisonRow>& comparisons);

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
