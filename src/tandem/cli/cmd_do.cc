// tandem do "task": the executor carries out one task in this repository,
// every editing step checkpointed, verified, and rolled back on failure.
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/do_run.h"

namespace tandem::cli {

CommandRun SetupDo(CLI::App& app) {
  auto options = std::make_shared<DoOptions>();
  app.add_option("task", options->task, "What to do, in words")->required();
  app.add_option("--model,-m", options->models,
                 "A model name (default: the executor role); with --variants, repeat it to "
                 "spread the variants over several models");
  app.add_option("--variants", options->variants,
                 "Fan out: run N variants (1-75), each verified in its own worktree; the "
                 "checkout is not changed (`tandem variants`, `tandem pick`)");
  app.add_option("--stop-after", options->stop_after,
                 "With --variants: stop once K distinct variants passed");
  app.add_option("--parallel", options->parallel,
                 "With --variants: variants running at once (default min(N, 8))");
  app.add_flag("--approaches", options->approaches,
               "With --variants: the planner writes N different approaches, one per variant");
  app.add_flag("--no-tournament", options->no_tournament,
               "With --variants: rank by the score alone, without the reviewer's pairwise "
               "tournament (for this run; the key is fanout.tournament)");
  app.add_option("--scope", options->scope, "Glob of paths the task may change (repeatable)");
  app.add_option("--skill", options->skills,
                 "Put this skill in the first request whatever the ranking says (repeatable)");
  app.add_flag("--json", options->json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", options->overrides,
                 "Override a config key: --set limits.max_steps=10 (repeatable)");
  return [options](const Invocation& in) {
    DoOptions run = *options;
    run.repo_root = in.repo_root;
    if (run.models.size() == 1) run.model = run.models[0];
    return RunDo(run);
  };
}

}  // namespace tandem::cli
