// tandem status: the current (or last) plan run: tasks and their states,
// what is running, retries, escalations, approvals waiting.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "tandem/base/clock.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/orchestrator/status.h"

namespace tandem::cli {
namespace {

int RunStatusCommand(const std::string& root, bool json) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto status = orchestrator::GatherStatus(root, **ledger);
  if (!status) {
    fmt::print(stderr, "tandem: {}\n", status.error().message());
    return kExitInternal;
  }
  if (json) {
    fmt::print("{}\n", orchestrator::StatusToJson(*status).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", orchestrator::FormatStatus(*status));
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupStatus(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  app.add_flag("--json", *json, "Print the status as one JSON object (docs/FORMATS.md)");
  return [json](const Invocation& in) { return RunStatusCommand(in.repo_root, *json); };
}

}  // namespace tandem::cli
