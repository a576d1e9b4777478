#include "tandem/metrics/stats.h"

#include "tandem/metrics/compute.h"
#include "tandem/metrics/read_facts.h"

namespace tandem::metrics {

Result<Report> ReportFromLedgerFile(const std::filesystem::path& ledger_path, const Window& window,
                                    ledger::Clock clock) {
  std::error_code ec;
  if (!std::filesystem::exists(ledger_path, ec)) return ComputeReport(LedgerFacts{}, window);
  auto ledger = TRY(ledger::Ledger::Open({ledger_path, std::move(clock)}));
  LedgerFacts facts = TRY(ReadLedgerFacts(*ledger, window));
  return ComputeReport(facts, window);
}

}  // namespace tandem::metrics
