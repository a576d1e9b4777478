// The bodies of the subcommands that `tandem mcp serve` also calls (do and
// run have their own headers, do_run.h and plan_run.h): each returns the
// process exit code and writes where its CommandIo says.
#pragma once

#include <string>
#include <vector>

#include "tandem/cli/command_io.h"

namespace tandem::cli {

// tandem undo [RUN]: restores the tree as it was before run `run` (empty:
// the last run that changed it).
int RunUndo(const std::string& repo_root, const std::string& run, const CommandIo& io);

struct PlanOptions {
  std::string goal;
  std::string model;
  std::vector<std::string> overrides;
  bool json = false;
  bool force = false;
};

// tandem plan "goal": the planner writes plan.md (printed on io.out).
int RunPlanGoal(const std::string& repo_root, const PlanOptions& options, const CommandIo& io);

}  // namespace tandem::cli
