#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "tandem/cli/command.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/version.h"
#include "tandem/config/loader.h"

namespace tandem::cli {
namespace {

// The one place tandem reads the process's working directory: `dir` (from
// -C) is taken relative to it, and without -C it is the start directory.
Result<Invocation> FindInvocation(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path start =
      dir.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(dir, ec);
  if (ec) return InvalidArgument("cannot resolve the working directory: " + ec.message());
  if (!dir.empty() && !std::filesystem::is_directory(start, ec)) {
    return InvalidArgument("-C " + dir + ": not a directory");
  }
  Invocation invocation;
  invocation.start_dir = start.lexically_normal().string();
  invocation.repo_root = config::FindRepoRoot(invocation.start_dir);
  return invocation;
}

}  // namespace

int Main(int argc, char** argv) {
  // A write to a closed pipe (the orphan guard gone, a reader of our output
  // gone) fails with EPIPE instead of killing tandem mid-step, unrolled.
  // Children get the default back (platform/process.cc).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"tandem: slow plans, fast executes. A verified orchestrator for coding models.",
               "tandem"};
  app.set_version_flag("--version,-V", std::string("tandem ") + kVersion);
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  std::string dir;
  app.add_option("-C,--repo", dir,
                 "Run as if tandem was started in DIR (like git -C): the repository containing "
                 "it");

  CommandRun to_run;
  for (const CommandSpec& spec : Commands()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    auto runner = std::make_shared<CommandRun>(spec.setup(*sub));
    sub->callback([runner, &to_run] { to_run = *runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitSuccess : kExitUsage;
  }
  if (!to_run) {
    std::fputs(app.help().c_str(), stdout);
    return kExitUsage;
  }
  auto invocation = FindInvocation(dir);
  if (!invocation) {
    fmt::print(stderr, "tandem: {}\n", invocation.error().message());
    return kExitUsage;
  }
  return to_run(*invocation);
}

}  // namespace tandem::cli
