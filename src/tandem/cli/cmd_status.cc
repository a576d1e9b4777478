// tandem status: the current (or last) plan run: tasks and their states,
// what is running, retries, escalations, approvals waiting.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "tandem/base/clock.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/config/loader.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/status.h"

namespace tandem::cli {
namespace {

int RunStatusCommand(bool json) {
  std::string root = config::FindRepoRoot(std::filesystem::current_path().string());
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto ledger =
      ledger::Ledger::Open({ledger::Ledger::PathForRepo(root), WallClockMs});
  if (!ledger) {
    fmt::print(stderr, "tandem: ledger: {}\n", ledger.error().message());
    return kExitInternal;
  }
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

std::function<int()> SetupStatus(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  app.add_flag("--json", *json, "Print the status as one JSON object (docs/FORMATS.md)");
  return [json] { return RunStatusCommand(*json); };
}

}  // namespace tandem::cli
