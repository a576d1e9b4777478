// The bodies of the subcommands that `tandem mcp serve` also calls (do and
// run have their own headers, do_run.h and plan_run.h): each returns the
// process exit code and writes where its CommandIo says.
#pragma once

#include <string>
#include <vector>

#include "tandem/cli/command_io.h"

namespace tandem::orchestrator {
struct PickResult;
}

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

struct PickOptions {
  std::string variant;             // N, vN, RUN/N or RUN.vN (cli/variants_view.h)
  std::vector<std::string> only;   // --only PATH...
  std::vector<std::string> overrides;
  bool json = false;
};

// tandem pick VARIANT [--only PATH...]: applies a fan-out variant's change
// to the checkout as one checkpointed, verified change (`tandem undo`
// reverts it); refused (exit 1) when the result fails the gates.
// `report` (may be null) receives what the pick did when it got that far.
int RunPick(const std::string& repo_root, const PickOptions& options, const CommandIo& io,
            orchestrator::PickResult* report = nullptr);

}  // namespace tandem::cli
