// tandem undo [RUN]: restores the tree to how it was before the last run (or
// RUN), refusing when the user changed the run's files since.
#include <fmt/format.h>

#include "tandem/base/clock.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/config/loader.h"
#include "tandem/ledger/ledger.h"
#include "tandem/workspace/workspace.h"

namespace tandem::cli {
namespace {


int RunUndo(const std::string& requested) {
  std::string root = config::FindRepoRoot(std::filesystem::current_path().string());
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto lock = LockForWriting(root, "undo");
  if (!lock) return lock.error();
  auto ledger = ledger::Ledger::Open({ledger::Ledger::PathForRepo(root), WallClockMs});
  if (!ledger) {
    fmt::print(stderr, "tandem: ledger: {}\n", ledger.error().message());
    return kExitInternal;
  }
  // A step a killed process left half done is restored first, so the undo
  // starts from the run's last checkpointed state.
  auto recovered = agent::RecoverInterrupted(root, **ledger);
  if (!recovered) {
    fmt::print(stderr, "tandem: recovering an interrupted run failed: {}\n",
               recovered.error().message());
    return kExitInternal;
  }
  for (const std::string& line : *recovered) fmt::print("{}\n", line);
  std::string run_id = requested;
  if (run_id.empty()) {
    // The latest run that changed the tree (undo runs themselves excluded).
    auto runs = (*ledger)->Query(
        "SELECT id FROM runs WHERE kind <> 'undo' ORDER BY started_at DESC, rowid DESC LIMIT 1");
    if (!runs || runs->rows.empty() || !std::holds_alternative<std::string>(runs->rows[0][0])) {
      fmt::print(stderr, "tandem: no run to undo in {}\n", root);
      return kExitUsage;
    }
    run_id = std::get<std::string>(runs->rows[0][0]);
  }
  auto ws = workspace::Workspace::Open(root);
  if (!ws) {
    fmt::print(stderr, "tandem: {}\n", ws.error().message());
    return kExitInternal;
  }
  std::string undo_id = "undo-" + agent::NewRunId();
  auto base = (*ws)->StartRun(undo_id);
  if (!base) {
    fmt::print(stderr, "tandem: {}\n", base.error().message());
    return kExitInternal;
  }
  auto done = (*ws)->Undo(run_id);
  if (!done) {
    fmt::print(stderr, "tandem: cannot undo run {}: {}\n", run_id, done.error().message());
    return done.error().code() == StatusCode::kFailedPrecondition ? kExitTaskFailed
                                                                  : kExitUsage;
  }
  auto changes = (*ws)->Diff(*base, *done);
  ledger::RunStart start;
  start.id = undo_id;
  start.kind = "undo";
  start.goal = "undo " + run_id;
  start.repo = root;
  start.base_checkpoint = base->hex;
  if ((*ledger)->BeginRun(start).ok()) {
    ledger::RunEnd end;
    end.final_checkpoint = done->hex;
    if (Status ended = (*ledger)->EndRun(undo_id, end); !ended.ok()) {
      fmt::print(stderr, "tandem: warning: ledger: the undo's end not recorded: {}\n",
                 ended.message());
    }
  }
  fmt::print("undid run {}: {} files restored\n", run_id, changes ? changes->size() : 0);
  if (changes) {
    for (const auto& c : *changes) fmt::print("  {} {}\n", workspace::ChangeKindName(c.kind), c.path);
  }
  return kExitSuccess;
}

}  // namespace

std::function<int()> SetupUndo(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  app.add_option("run", *run, "The run to undo (default: the last one)");
  return [run] { return RunUndo(*run); };
}

}  // namespace tandem::cli
