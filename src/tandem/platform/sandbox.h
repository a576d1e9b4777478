// The command sandbox: bubblewrap (bwrap) with the workspace writable, its
// .git and .tandem read-only, the rest of the file system read-only, a
// private /tmp, /run, /dev and /proc, no network, its own pid namespace (so a
// kill reaches every process inside), --die-with-parent and --new-session (no
// terminal injection through TIOCSTI). The user's home is an empty tmpfs but
// for the toolchain directories named by ChildPolicy::home_dirs (read-only),
// and the credential paths of CredentialPaths are hidden even there and in
// the workspace. bwrap itself starts with the child's environment
// (child_env.h): it is PID 1 inside, and /proc/1/environ shows what it got.
//
// Containers without user namespaces cannot start bwrap; ProbeSandbox tells
// whether it can start here and, when not, why. Callers decide what to do
// (tools::RunCommand's SandboxFallback). Thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/platform/child_env.h"
#include "tandem/platform/process.h"

namespace tandem::platform {

// What a child that runs a model's code (a command or a gate) may reach
// besides the workspace.
struct ChildPolicy {
  EnvPolicy env;
  std::vector<std::string> home_dirs;  // relative to $HOME; bound read-only
  bool network = false;
  // The files of a program its user configured (an MCP server's command and
  // script, from ProgramFiles), absolute: bound read-only, alone (not their
  // directories), where the sandbox would hide them (under /tmp, /run or the
  // hidden home), at the path named and at the real path it resolves to.
  // Empty for what a model asks to run.
  std::vector<std::string> program_files;
};

// Paths relative to $HOME that hold credentials (~/.ssh, ~/.aws, ~/.netrc,
// ~/.cargo/credentials.toml, ...): never visible in the sandbox.
std::span<const std::string_view> CredentialPaths();

struct SandboxProbe {
  bool available = false;
  std::string bwrap;   // path of the bwrap binary that worked (or was tried)
  std::string reason;  // why it is unavailable; empty when available
};

// The files `argv`, a program its user configured (an MCP server), runs
// from: argv[0] as found on `path_var`, and every argument that is the
// absolute path of an existing regular file; for ChildPolicy::program_files.
// A program not found is left out (it fails to start, as unsandboxed).
// kPermissionDenied naming the file when one is, or resolves into, a
// credential path of `home` (CredentialPaths): the sandbox never shows those.
Result<std::vector<std::string>> ProgramFiles(const std::vector<std::string>& argv,
                                              const std::string& path_var,
                                              const std::string& home);

// Runs bwrap once with the sandbox's namespaces and a trivial command. The
// first call's answer is cached for the life of the process.
const SandboxProbe& ProbeSandbox();

// Uncached probe of a given bwrap binary (tests, diagnostics).
SandboxProbe ProbeSandboxWith(const std::string& bwrap);

// argv that runs `argv` inside the sandbox with `workspace` (absolute) as the
// writable root and `cwd` (absolute, under it; empty = the workspace) as
// working directory. `home` (absolute; empty or "/" = not hidden) is the
// user's home.
std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workspace,
                                     const std::string& cwd, const ChildPolicy& policy,
                                     const std::string& home, const std::vector<std::string>& argv);

// Fills spec->argv, spec->env and spec->cwd to run `argv` with the child
// environment of `policy` (plus `extra_env`, set last), inside the sandbox
// when `bwrap` is non-empty and directly (still with that environment) when
// it is empty. The environment is the process's, read now.
void ConfineProcess(const std::string& bwrap, const ChildPolicy& policy,
                    const std::string& workspace, const std::string& cwd,
                    const std::vector<std::string>& argv, const EnvMap& extra_env,
                    ProcessSpec* spec);

}  // namespace tandem::platform
