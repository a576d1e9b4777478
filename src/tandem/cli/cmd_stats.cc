// tandem stats: reliability metrics from the ledger of the current
// repository (completion, retries, human minutes, cost per success, model
// speed, where wall time went). Definitions: docs/METRICS.md.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "tandem/base/clock.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/metrics/report_json.h"
#include "tandem/metrics/report_text.h"
#include "tandem/metrics/stats.h"

namespace tandem::cli {
namespace {


struct StatsOptions {
  std::string since = "30d";
  bool all = false;
  bool json = false;
};

int RunStats(const std::string& root, const StatsOptions& options) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  metrics::Window window = metrics::AllTime();
  if (!options.all) {
    auto parsed = metrics::ParseSince(options.since, WallClockMs());
    if (!parsed) {
      fmt::print(stderr, "tandem: {}\n", parsed.error().message());
      return kExitUsage;
    }
    window = *parsed;
  }
  auto path = LocateLedger(root);
  if (!path) return path.error();
  auto report = metrics::ReportFromLedgerFile(*path, window, WallClockMs);
  if (!report) {
    fmt::print(stderr, "tandem: ledger: {}\n", report.error().message());
    return kExitInternal;
  }
  if (options.json) {
    fmt::print("{}\n", metrics::ReportToJson(*report, root).dump(2));
  } else {
    std::fputs(metrics::RenderReportText(*report, root).c_str(), stdout);
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupStats(CLI::App& app) {
  auto options = std::make_shared<StatsOptions>();
  app.add_option("--since", options->since,
                 "Runs started since: 30m, 12h, 7d, 2w, or a UTC date 2026-11-01[T09:30]")
      ->default_str("30d");
  app.add_flag("--all", options->all, "Every run in the ledger (overrides --since)");
  app.add_flag("--json", options->json, "Print one JSON object (docs/METRICS.md)");
  return [options](const Invocation& in) { return RunStats(in.repo_root, *options); };
}

}  // namespace tandem::cli
