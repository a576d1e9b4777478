// How tandem starts a child, shared by RunProcess (process.cc) and
// mcp::StdioProcess: the program and working directory are found, refused
// and named the same way by both, and both start the child the same way:
// in its own session, registered with the orphan guard (orphan_guard.h)
// before it runs a single instruction of the command.
//
// Thread-safety: every function may be called from any thread; ResolveSpawn
// and SpawnEnvironment read the process's environment (getenv, environ) and
// need nothing to change it meanwhile.
#pragma once

#include <sys/types.h>

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

// What becomes the child's descriptors 0, 1 and 2 (each dup2'ed; the
// caller keeps and closes its own copies). in = -1: /dev/null.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// Starts `program` (ResolveSpawn's answer) with spec.argv, SpawnEnvironment
// (spec) and spec.cwd: in a new session (its own process group, killed as
// one, and no controlling terminal, so a password prompt on /dev/tty fails
// at once instead of stopping the child until its timeout), the signal mask
// empty, SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1,
// SIGUSR2 and SIGALRM at their default action, `stdio` on 0-2 and no other
// descriptor open (not even one another thread opened without O_CLOEXEC).
//
// Before it execs, the child writes its own group to the orphan guard's
// pipe, whose write end it holds until the exec: from the moment this
// function is entered, a caller killed at any point (kill -9, a crash) takes
// the command's whole group with it, and the command never runs unguarded.
// Best effort like the guard: when no guard could start, the child runs
// unregistered and only its caller stops it.
//
// Cost: what posix_spawn costs (one clone(CLONE_VM | CLONE_VFORK): no page
// tables copied, the calling thread waits until the child has exec'd), plus
// the child's 4-byte write and its reset of the signal dispositions.
//
// Returns the child's pid (= its process group): the caller owns it, calls
// ForgetGroup(pid) before it reaps it and reaps it. Errors: kNotFound when
// the program vanished since ResolveSpawn (ENOENT), kIo for every other
// failure (clone, chdir, exec); the child is then already reaped.
Result<pid_t> SpawnGuarded(const std::string& program, const ProcessSpec& spec,
                           const ChildStdio& stdio);

// Closes every descriptor from `first` up, but `keep` (-1: none): one or two
// close_range calls, or one close() per descriptor up to the limit where
// close_range fails (kernels before 5.9, a seccomp filter answering EPERM).
// Async-signal-safe: for a child between clone/fork and exec (and the
// orphan guard).
void CloseDescriptorsFrom(int first, int keep);

// For tests: from now on CloseDescriptorsFrom takes its fallback path, in
// the orphan guards and the children this process starts.
void SkipCloseRangeForTesting();

// For tests: `hook` (nullptr: none) runs on the caller's thread whenever
// SpawnGuarded has started a child, with its pid, before SpawnGuarded
// returns: a test can hold the caller there (blocked on a pipe), kill it,
// and see the child's group die with it.
void SetAfterSpawnHookForTesting(void (*hook)(pid_t child));

}  // namespace tandem::platform
