// One setup function per subcommand (each in its own cmd_*.cc).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "tandem/cli/command.h"

namespace tandem::cli {

CommandRun SetupAsk(CLI::App& app);
CommandRun SetupDoctor(CLI::App& app);
CommandRun SetupModels(CLI::App& app);
CommandRun SetupDo(CLI::App& app);
CommandRun SetupUndo(CLI::App& app);
CommandRun SetupDemo(CLI::App& app);
CommandRun SetupInit(CLI::App& app);
CommandRun SetupPlan(CLI::App& app);
CommandRun SetupRun(CLI::App& app);
CommandRun SetupResume(CLI::App& app);
CommandRun SetupStatus(CLI::App& app);
CommandRun SetupSteer(CLI::App& app);
CommandRun SetupStats(CLI::App& app);
CommandRun SetupTrust(CLI::App& app);
CommandRun SetupMcp(CLI::App& app);
CommandRun SetupSkills(CLI::App& app);
// `tandem undo [RUN]`'s body, RunUndo, is in command_bodies.h.

}  // namespace tandem::cli
