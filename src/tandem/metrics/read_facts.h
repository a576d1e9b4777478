// Reads the rows of the runs that started inside a window from the ledger,
// with read-only SQL through Ledger::Query (the ledger's schema is not
// touched). The statements run one after another, not in one snapshot: a run
// still being recorded may have a few rows more in later tables, which only
// ever concerns runs still `running`.
#pragma once

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"
#include "tandem/metrics/ledger_facts.h"
#include "tandem/metrics/window.h"

namespace tandem::metrics {

// Errors: whatever the ledger returns for a failing query.
Result<LedgerFacts> ReadLedgerFacts(ledger::Ledger& ledger, const Window& window);

}  // namespace tandem::metrics
