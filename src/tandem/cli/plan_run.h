// The body of `tandem run` and `tandem resume` (and the shared setup of
// `tandem plan`): configuration, the three tiers' models, gates, the ledger,
// the renderer, Ctrl-C, and the terminal approval prompt, wired around
// orchestrator::RunPlan / ResumePlan.
#pragma once

#include <string>
#include <vector>

#include "tandem/cli/command_io.h"


namespace CLI {
class App;
}

namespace tandem::cli {

struct PlanRunOptions {
  std::vector<std::string> overrides;  // --set key=value
  bool json = false;
  std::string approval;   // "ask" | "approve" | "deny"; empty: approval.policy
  std::string slow_role;  // "reviewer" | "planner"; empty: reviewer
  bool commit = false;    // --commit: a git commit per done and reviewed task
  bool resume = false;
  std::string run_id;  // resume: which run (empty: the last unfinished one)
};

// --approval, --slow-role, --commit, --json, --set (shared by run and resume).
void AddPlanRunFlags(CLI::App& app, PlanRunOptions& options);

// Returns the process exit code (docs/EVENTS.md).
int RunPlanCommand(const std::string& repo_root, const PlanRunOptions& options,
                   const CommandIo& io = {});

}  // namespace tandem::cli
