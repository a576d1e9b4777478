// The subcommand table. Each subcommand lives in its own cmd_*.cc file and
// contributes one row to kCommands (commands.cc): the same table drives
// dispatch and `tandem --help`.
#pragma once

#include <functional>
#include <span>

#include <CLI/CLI.hpp>

namespace tandem::cli {

// Adds the subcommand's options to `app` and returns the function that runs
// it (called after parsing; returns the process exit code).
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct CommandSpec {
  const char* name;
  const char* help;
  CommandSetup setup;
};

std::span<const CommandSpec> Commands();

// Entry point used by main.cc.
int Main(int argc, char** argv);

}  // namespace tandem::cli
