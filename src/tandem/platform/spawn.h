// What every spawn of a ProcessSpec checks and builds first, shared by
// RunProcess (process.cc) and mcp::StdioProcess, so a program or working
// directory is found, refused and named the same way by both.
//
// Thread-safety: both functions read the process's environment (getenv,
// environ) and may be called from any thread while nothing changes it.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/platform/process.h"

namespace tandem::platform {

// The program to run: argv[0] looked up on spec.env's PATH, else this
// process's PATH, else /usr/local/bin:/usr/bin:/bin; and spec.cwd, when
// set, an existing directory. kInvalidArgument for an empty argv; kNotFound
// naming the missing program or directory.
Result<std::string> ResolveSpawn(const ProcessSpec& spec);

// The child's environment as "KEY=value" entries: this process's (when
// spec.inherit_env) overridden by spec.env, plus the orphan guard's owner
// tag (orphan_guard.h) when one is set.
std::vector<std::string> SpawnEnvironment(const ProcessSpec& spec);

}  // namespace tandem::platform
