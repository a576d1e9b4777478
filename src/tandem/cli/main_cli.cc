#include <cstdio>
#include <memory>
#include <vector>

#include "tandem/cli/command.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/version.h"

namespace tandem::cli {

int Main(int argc, char** argv) {
  CLI::App app{"tandem: slow plans, fast executes. A verified orchestrator for coding models.",
               "tandem"};
  app.set_version_flag("--version,-V", std::string("tandem ") + kVersion);
  app.require_subcommand(0, 1);
  app.fallthrough(false);

  std::function<int()> to_run;
  for (const CommandSpec& spec : Commands()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    auto runner = std::make_shared<std::function<int()>>(spec.setup(*sub));
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
  return to_run();
}

}  // namespace tandem::cli
