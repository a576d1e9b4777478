// tandem gc [--keep-days D]: cleans what stopped runs left (worktrees,
// runs and variants marked running) and deletes the private refs of the
// variants of fan-outs older than D days (default 14), so `git gc` can
// prune their trees.
#include <fmt/format.h>

#include "tandem/base/clock.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/variants_view.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/orchestrator/fanout.h"

namespace tandem::cli {
namespace {

int RunGc(const std::string& root, double keep_days) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  if (keep_days < 0) {
    fmt::print(stderr, "tandem: --keep-days {}: expected 0 or more\n", keep_days);
    return kExitUsage;
  }
  auto lock = LockForWriting(root, "gc");
  if (!lock) return lock.error();
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto fan = OpenFanoutLedger(**ledger);
  if (!fan) return fan.error();
  auto keep_ms = static_cast<int64_t>(keep_days * 24 * 3600 * 1000);
  auto gc = orchestrator::CollectGarbage(root, **ledger, **fan, keep_ms, WallClockMs());
  if (!gc) {
    fmt::print(stderr, "tandem: gc: {}\n", gc.error().message());
    return kExitInternal;
  }
  for (const std::string& line : gc->lines) fmt::print("{}\n", line);
  fmt::print("gc: {} fan-out(s) forgotten, {} ref(s) deleted{}\n", gc->runs_forgotten,
             gc->refs_deleted, gc->lines.empty() ? "; nothing else to clean" : "");
  return kExitSuccess;
}

}  // namespace

CommandRun SetupGc(CLI::App& app) {
  auto keep = std::make_shared<double>(14);
  app.add_option("--keep-days", *keep,
                 "Keep the variants of fan-outs younger than this many days (default 14)");
  return [keep](const Invocation& in) { return RunGc(in.repo_root, *keep); };
}

}  // namespace tandem::cli
