// The command sandbox: bubblewrap (bwrap) with the workspace writable, its
// .git and .tandem read-only, the rest of the file system read-only, a
// private /tmp, /dev and /proc, no network, its own pid namespace (so a kill
// reaches every process inside), --die-with-parent and --new-session (no
// terminal injection through TIOCSTI).
//
// Containers without user namespaces cannot start bwrap; ProbeSandbox tells
// whether it can start here and, when not, why. Callers decide what to do
// (tools::RunCommand's SandboxFallback). Thread-safe.
#pragma once

#include <string>
#include <vector>

namespace tandem::platform {

struct SandboxProbe {
  bool available = false;
  std::string bwrap;   // path of the bwrap binary that worked (or was tried)
  std::string reason;  // why it is unavailable; empty when available
};

// Runs bwrap once with the sandbox's namespaces and a trivial command. The
// first call's answer is cached for the life of the process.
const SandboxProbe& ProbeSandbox();

// Uncached probe of a given bwrap binary (tests, diagnostics).
SandboxProbe ProbeSandboxWith(const std::string& bwrap);

// argv that runs `argv` inside the sandbox with `workspace` (absolute) as the
// writable root and working directory.
std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workspace,
                                     const std::vector<std::string>& argv);

}  // namespace tandem::platform
