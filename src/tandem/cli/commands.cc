#include "tandem/cli/command.h"
#include "tandem/cli/commands_impl.h"

namespace tandem::cli {

// The subcommand table: dispatch and --help both come from here.
std::span<const CommandSpec> Commands() {
  static const CommandSpec kCommands[] = {
      {"demo", "Run the whole verified loop on a sample repository with a scripted model",
       SetupDemo},
      {"do", "Carry out one task with the executor, verifying every step", SetupDo},
      {"undo", "Restore the tree to how it was before the last run (or RUN)", SetupUndo},
      {"ask", "Stream one reply from a role's model, with timing and cost", SetupAsk},
      {"doctor", "Show configuration, keys, local servers and what each role resolves to",
       SetupDoctor},
      {"models", "List configured models, their prices and roles", SetupModels},
  };
  return kCommands;
}

}  // namespace tandem::cli
