// tandem resume [RUN]: continues a `tandem run` after a crash, kill -9 or
// Ctrl-C: the interrupted step is rolled back to its checkpoint and its task
// retried; finished tasks are not done again.
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/plan_run.h"

namespace tandem::cli {

CommandRun SetupResume(CLI::App& app) {
  auto options = std::make_shared<PlanRunOptions>();
  options->resume = true;
  app.add_option("run", options->run_id, "The run to continue (default: the last unfinished one)");
  AddPlanRunFlags(app, *options);
  return [options](const Invocation& in) { return RunPlanCommand(in.repo_root, *options); };
}

}  // namespace tandem::cli
