#include "tandem/cli/command.h"
#include "tandem/cli/commands_impl.h"

namespace tandem::cli {

// The fan-out's subcommands (cmd_variants.cc, cmd_pick.cc, cmd_gc.cc).
CommandRun SetupVariants(CLI::App& app);
CommandRun SetupPick(CLI::App& app);
CommandRun SetupGc(CLI::App& app);

// The subcommand table: dispatch and --help both come from here.
std::span<const CommandSpec> Commands() {
  static const CommandSpec kCommands[] = {
      {"demo", "Run the whole verified loop on a sample repository with a scripted model",
       SetupDemo},
      {"init", "Write AGENTS.md, verify.md, plan.md and progress.md where missing", SetupInit},
      {"plan", "Have the planner write plan.md: small, verifiable tasks for a goal", SetupPlan},
      {"run", "Execute plan.md task by task; irreversible tasks wait for approval", SetupRun},
      {"resume", "Continue an interrupted `tandem run` (crash, kill, Ctrl-C)", SetupResume},
      {"status", "Show the current plan run: tasks, states, retries, approvals waiting",
       SetupStatus},
      {"steer", "Add a note for the running executor's next step", SetupSteer},
      {"do", "Carry out one task with the executor, verifying every step", SetupDo},
      {"variants", "A fan-out's variants, ranked (`variants show VARIANT`: diff and gates)",
       SetupVariants},
      {"pick", "Apply one fan-out variant to the checkout, verified (`tandem undo` reverts)",
       SetupPick},
      {"gc", "Remove what stopped runs left and old fan-outs' variants", SetupGc},
      {"undo", "Restore the tree to how it was before the last run (or RUN)", SetupUndo},
      {"ask", "Stream one reply from a role's model, with timing and cost", SetupAsk},
      {"doctor", "Show configuration, keys, local servers and what each role resolves to",
       SetupDoctor},
      {"models", "Models: prices, roles, pools, measured speed, and what each role picks now",
       SetupModels},
      {"trust", "Trust this repository's own .tandem/config.toml as it is now (--revoke, --list)",
       SetupTrust},
      {"mcp",
       "MCP: `mcp list` shows configured servers, their state and tools; `mcp serve` serves "
       "tandem to an MCP client on stdio",
       SetupMcp},
      {"skills", "Skills: `skills list|show|eval|restore|rm` (docs/SKILLS.md)", SetupSkills},
      {"stats", "Reliability metrics from the ledger: completion, retries, cost per success",
       SetupStats},
  };
  return kCommands;
}

}  // namespace tandem::cli
