// tandem init: writes AGENTS.md, verify.md (the detected gates), plan.md and
// progress.md where they are missing, and says what to edit.
#include <fmt/format.h>

#include <filesystem>

#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/memory/init.h"
#include "tandem/verify/detect.h"

namespace tandem::cli {
namespace {

int RunInit(const std::string& root) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository (run `git init` first)\n");
    return kExitUsage;
  }
  auto lock = LockForWriting(root, "init");
  if (!lock) return lock.error();
  verify::Detection detection = verify::DetectGates(root);
  auto report = memory::InitRepository(root, detection);
  if (!report) {
    fmt::print(stderr, "tandem: {}\n", report.error().message());
    return kExitInternal;
  }
  fmt::print("tandem init in {}\n", root);
  for (const memory::InitFile& f : report->files) {
    fmt::print("  {} {}\n", f.written ? "wrote   " : "kept    ", f.name);
  }
  fmt::print("gates: {}\n", detection.description);
  if (!report->next_steps.empty()) {
    fmt::print("next:\n");
    for (const std::string& step : report->next_steps) fmt::print("  - {}\n", step);
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupInit(CLI::App&) {
  return [](const Invocation& in) { return RunInit(in.repo_root); };
}

}  // namespace tandem::cli
