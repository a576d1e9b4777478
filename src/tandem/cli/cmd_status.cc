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

int RunStatusCommand() {
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
  fmt::print("{}", orchestrator::FormatStatus(*status));
  return kExitSuccess;
}

}  // namespace

std::function<int()> SetupStatus(CLI::App& app) {
  return [] { return RunStatusCommand(); };
}

}  // namespace tandem::cli
