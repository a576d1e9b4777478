// tandem do "task": the executor carries out one task in this repository,
// every editing step checkpointed, verified, and rolled back on failure.
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/do_run.h"

namespace tandem::cli {

CommandRun SetupDo(CLI::App& app) {
  auto options = std::make_shared<DoOptions>();
  app.add_option("task", options->task, "What to do, in words")->required();
  app.add_option("--model,-m", options->model, "A model name (default: the executor role)");
  app.add_option("--scope", options->scope, "Glob of paths the task may change (repeatable)");
  app.add_flag("--json", options->json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", options->overrides,
                 "Override a config key: --set limits.max_steps=10 (repeatable)");
  return [options](const Invocation& in) {
    DoOptions run = *options;
    run.repo_root = in.repo_root;
    return RunDo(run);
  };
}

}  // namespace tandem::cli
