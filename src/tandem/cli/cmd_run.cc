// tandem run: executes plan.md in one run, task by task, each verified;
// irreversible tasks wait for approval and run on the slow tier.
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/plan_run.h"

namespace tandem::cli {

void AddPlanRunFlags(CLI::App& app, PlanRunOptions& options) {
  app.add_option("--approval", options.approval,
                 "Who decides on irreversible tasks: ask (a prompt), approve or deny (CI); "
                 "default: approval.policy");
  app.add_option("--slow-role", options.slow_role,
                 "The role that runs irreversible and escalated tasks: reviewer (default) or "
                 "planner");
  app.add_flag("--commit", options.commit,
               "Commit each task that is done and reviewed on the current branch, with the "
               "reviewer's message (commit.enabled)");
  app.add_flag("--json", options.json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", options.overrides,
                 "Override a config key: --set limits.max_steps=10 (repeatable)");
}

CommandRun SetupRun(CLI::App& app) {
  auto options = std::make_shared<PlanRunOptions>();
  AddPlanRunFlags(app, *options);
  return [options](const Invocation& in) { return RunPlanCommand(in.repo_root, *options); };
}

}  // namespace tandem::cli
