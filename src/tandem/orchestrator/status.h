// `tandem status`: the current (or last) plan run, from plan.md and the
// ledger: every task with its checkbox state and, for this run, its ledger
// row (tier, attempts, detail); what is running; retries, escalations and
// approvals; tasks waiting for approval; steering notes not yet delivered;
// tasks marked done in plan.md that tandem did not verify.
// Read-only; safe while a run goes on.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"
#include "tandem/memory/plan_md.h"

namespace tandem::orchestrator {

struct TaskStatusRow {
  std::string id;
  std::string title;
  memory::TaskState state = memory::TaskState::kPending;  // plan.md's checkbox
  memory::Risk risk = memory::Risk::kReversible;
  std::optional<ledger::TaskRow> ledger;  // this run's row, if it reached the task
  int64_t steps = 0;  // its steps in this run (a running task is at this step)
  // `[x]` in plan.md, but no run of tandem in this repository recorded the
  // task done (ledger::ListDoneTasks): not verified, and `tandem run` runs it.
  bool unverified = false;
};

struct RunStatus {
  std::string plan_error;  // plan.md missing or malformed (tasks then empty)
  std::string goal;
  std::vector<TaskStatusRow> tasks;
  std::optional<ledger::RunRow> run;  // the running or last `tandem run`
  bool live = false;                  // its process is alive
  std::optional<ledger::RunReport> report;
  std::vector<ledger::SteerNote> pending_notes;
  std::vector<std::string> running;  // ids of [~] tasks (several with parallel tasks; each
                                     // one's ledger detail names its worktree)
  std::vector<std::string> waiting;  // ids of [?] tasks
  std::vector<std::string> unverified;  // ids of [x] tasks tandem did not verify
};

Result<RunStatus> GatherStatus(const std::filesystem::path& repo_root, ledger::Ledger& ledger);

// The report as text for a terminal.
std::string FormatStatus(const RunStatus& status);

// The same content as one JSON object, "schema": "tandem.status/1"
// (docs/FORMATS.md, "tandem status --json").
nlohmann::json StatusToJson(const RunStatus& status);

}  // namespace tandem::orchestrator
