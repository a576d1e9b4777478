// The tasks tandem saw finish: every run's task rows in state done. A task is
// recorded done only when a run saw its gates pass (orchestrator's
// PlanRunner), and the ledger lives where no commit can write
// (git_dirs.h), so these rows, unlike plan.md's `[x]` checkboxes, which a
// repository or a person can write, are tandem's own record. `tandem run`
// and `tandem status` treat a `[x]` task without a row of the same id and
// title as not verified (docs/FORMATS.md, plan.md).
//
// Thread-safety: as Ledger (one statement under its mutex).
#pragma once

#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"

namespace tandem::ledger {

struct DoneTask {
  std::string run_id{};
  std::string task_id{};
  std::string title{};
};

// Every run's done tasks, oldest first. Cost: one scan of the
// tasks table (a row per task per run). Errors: the ledger's.
Result<std::vector<DoneTask>> ListDoneTasks(Ledger& ledger);

}  // namespace tandem::ledger
