// The whole of `tandem stats` below the command line: open the ledger, read
// the window's rows, compute the report.
#pragma once

#include <filesystem>

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"
#include "tandem/metrics/report.h"
#include "tandem/metrics/window.h"

namespace tandem::metrics {

// The skills' A/B rows of a report from the ledger's counts: one per skill
// with ended tasks, then "(all skills)".
std::vector<SkillFigures> SkillFiguresFrom(const std::vector<ledger::SkillCounts>& counts);

// Reads the ledger at `ledger_path`. A missing file is an empty report (the
// file is not created: looking at stats leaves no trace). `clock` is only
// used if the ledger needs migrating. Errors: the ledger's (not a database,
// schema newer than this build, query failure).
Result<Report> ReportFromLedgerFile(const std::filesystem::path& ledger_path, const Window& window,
                                    ledger::Clock clock);

}  // namespace tandem::metrics
