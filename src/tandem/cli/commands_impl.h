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

}  // namespace tandem::cli
