// tandem steer [--task ID] "note": a person's note for the run going on in
// this repository; it reaches the executor's next step (of that task only,
// with --task; of every running task without it) and is recorded in the
// ledger and progress.md.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "tandem/base/clock.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/orchestrator/steer.h"

namespace tandem::cli {
namespace {

int RunSteer(const std::string& root, const std::string& note, const std::string& task) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto result = orchestrator::AddSteer(root, **ledger, note, "cli", task);
  if (!result) {
    fmt::print(stderr, "tandem: {}\n", result.error().message());
    return result.error().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInternal;
  }
  if (result->run_live) {
    fmt::print("note added to run {}: it reaches the executor's next step\n", result->run_id);
  } else if (!result->run_id.empty()) {
    fmt::print("note added to interrupted run {}: `tandem resume` delivers it\n", result->run_id);
  } else {
    fmt::print("no run is going on: the note is in progress.md, where every task reads it\n");
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupSteer(CLI::App& app) {
  auto note = std::make_shared<std::string>();
  auto task = std::make_shared<std::string>();
  app.add_option("note", *note, "What the executor should know, in words")->required();
  app.add_option("--task", *task,
                 "Only for this plan task (default: every task running now)");
  return [note, task](const Invocation& in) { return RunSteer(in.repo_root, *note, *task); };
}

}  // namespace tandem::cli
