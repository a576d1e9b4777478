// The subcommand table. Each subcommand lives in its own cmd_*.cc file and
// contributes one row to kCommands (commands.cc): the same table drives
// dispatch and `tandem --help`.
#pragma once

#include <functional>
#include <span>
#include <string>

#include <CLI/CLI.hpp>

namespace tandem::cli {

// What the composition root (Main) finds once, before a subcommand runs.
// Nothing after it reads or changes the process's working directory: every
// path a subcommand uses comes from here.
struct Invocation {
  std::string start_dir;  // absolute: `-C DIR`, else the working directory at startup
  std::string repo_root;  // the git working tree containing start_dir; empty: none
};

// Runs a parsed subcommand; returns the process exit code.
using CommandRun = std::function<int(const Invocation&)>;

// Adds the subcommand's options to `app` and returns the function that runs
// it (called after parsing).
using CommandSetup = std::function<CommandRun(CLI::App& app)>;

struct CommandSpec {
  const char* name;
  const char* help;
  CommandSetup setup;
};

std::span<const CommandSpec> Commands();

// Entry point used by main.cc.
int Main(int argc, char** argv);

}  // namespace tandem::cli
