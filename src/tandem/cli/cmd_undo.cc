// tandem undo [RUN]: restores the tree to how it was before the last run (or
// RUN), refusing when the user changed the run's files since.
#include <fmt/format.h>

#include "tandem/base/clock.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/command_bodies.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/cli/runtime.h"
#include "tandem/ledger/ledger.h"
#include "tandem/workspace/workspace.h"

namespace tandem::cli {

int RunUndo(const std::string& root, const std::string& requested, const CommandIo& io) {
  if (root.empty()) {
    fmt::print(io.err, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto lock = LockForWriting(root, "undo", io.err);
  if (!lock) return lock.error();
  auto ledger = OpenLedger(root, io.err);
  if (!ledger) return ledger.error();
  // A step a killed process left half done is restored first, so the undo
  // starts from the run's last checkpointed state.
  auto recovered = agent::RecoverInterrupted(root, **ledger);
  if (!recovered) {
    fmt::print(io.err, "tandem: recovering an interrupted run failed: {}\n",
               recovered.error().message());
    return kExitInternal;
  }
  for (const std::string& line : *recovered) fmt::print(io.out, "{}\n", line);
  // Runs that changed the tree (undo runs excluded), newest first, with the
  // undo run that undid each, if any.
  auto runs = (*ledger)->UndoableRuns();
  if (!runs) {
    fmt::print(io.err, "tandem: ledger: {}\n", runs.error().message());
    return kExitInternal;
  }
  std::string run_id = requested;
  if (run_id.empty()) {
    if (runs->empty()) {
      fmt::print(io.err, "tandem: no run to undo in {}\n", root);
      return kExitUsage;
    }
    run_id = (*runs)[0].run_id;
  }
  for (size_t i = 0; i < runs->size(); ++i) {
    const std::string& undone_by = (*runs)[i].undone_by;
    if ((*runs)[i].run_id != run_id || undone_by.empty()) continue;
    // Undoing it again would only report the files as changed since.
    std::string earlier;
    for (size_t j = i + 1; j < runs->size() && earlier.empty(); ++j) {
      if ((*runs)[j].undone_by.empty()) earlier = (*runs)[j].run_id;
    }
    fmt::print(io.err, "tandem: run {} was already undone (by {})\n", run_id, undone_by);
    if (!earlier.empty()) {
      fmt::print(io.err, "  to undo the run before it: tandem undo {}\n", earlier);
    } else {
      fmt::print(io.err, "  no earlier run is left to undo\n");
    }
    return kExitUsage;
  }
  auto ws = workspace::Workspace::Open(root);
  if (!ws) {
    fmt::print(io.err, "tandem: {}\n", ws.error().message());
    return kExitInternal;
  }
  std::string undo_id = "undo-" + agent::NewRunId();
  auto base = (*ws)->StartRun(undo_id);
  if (!base) {
    fmt::print(io.err, "tandem: {}\n", base.error().message());
    return kExitInternal;
  }
  auto done = (*ws)->Undo(run_id);
  if (!done) {
    fmt::print(io.err, "tandem: cannot undo run {}: {}\n", run_id, done.error().message());
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
  // The ledger's undo row is how a later undo knows this run is undone.
  Status recorded = (*ledger)->BeginRun(start);
  if (recorded.ok()) {
    ledger::RunEnd end;
    end.final_checkpoint = done->hex;
    recorded = (*ledger)->EndRun(undo_id, end);
  }
  if (!recorded.ok()) {
    fmt::print(io.err, "tandem: warning: the undo is done but not in the ledger: {}\n",
               recorded.message());
  }
  auto dirs = (*ws)->DiffEmptyDirs(*base, *done);
  size_t dir_count = dirs ? dirs->made.size() + dirs->removed.size() : 0;
  fmt::print(io.out, "undid run {}: {} files{} restored\n", run_id, changes ? changes->size() : 0,
             dir_count ? fmt::format(" and {} empty directories", dir_count) : "");
  if (changes) {
    for (const auto& c : *changes) fmt::print(io.out, "  {} {}\n", workspace::ChangeKindName(c.kind), c.path);
  }
  if (dirs) {
    for (const auto& d : dirs->made) fmt::print(io.out, "  made {}/\n", d);
    for (const auto& d : dirs->removed) fmt::print(io.out, "  removed {}/\n", d);
  }
  return kExitSuccess;
}

CommandRun SetupUndo(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  app.add_option("run", *run, "The run to undo (default: the last one)");
  return [run](const Invocation& in) { return RunUndo(in.repo_root, *run, {}); };
}

}  // namespace tandem::cli
