// One setup function per subcommand (each in its own cmd_*.cc).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace tandem::cli {

std::function<int()> SetupAsk(CLI::App& app);
std::function<int()> SetupDoctor(CLI::App& app);
std::function<int()> SetupModels(CLI::App& app);
std::function<int()> SetupDo(CLI::App& app);
std::function<int()> SetupUndo(CLI::App& app);
std::function<int()> SetupDemo(CLI::App& app);
std::function<int()> SetupInit(CLI::App& app);
std::function<int()> SetupPlan(CLI::App& app);
std::function<int()> SetupRun(CLI::App& app);
std::function<int()> SetupResume(CLI::App& app);
std::function<int()> SetupStatus(CLI::App& app);
std::function<int()> SetupSteer(CLI::App& app);
std::function<int()> SetupStats(CLI::App& app);
std::function<int()> SetupTrust(CLI::App& app);

}  // namespace tandem::cli
