// Turns ledger rows into the report: a pure function (no I/O, no clock), so
// every figure can be asserted against hand-computed values.
#pragma once

#include "tandem/metrics/ledger_facts.h"
#include "tandem/metrics/report.h"

namespace tandem::metrics {

// `facts` must hold the rows of the window's runs only (ReadLedgerFacts).
Report ComputeReport(const LedgerFacts& facts, const Window& window);

}  // namespace tandem::metrics
