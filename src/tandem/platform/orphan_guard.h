// Nothing tandem starts outlives it: RunProcess hands every child's process
// group to the orphan guard, a small process forked from tandem the first
// time it is needed. The guard holds the read end of a pipe whose only write
// end is tandem's; when tandem dies, however it dies (kill -9, a crash), the
// kernel closes that end, and the guard kills (SIGKILL) every group still
// registered, then exits. When tandem exits normally nothing is registered
// any more and the guard just exits.
//
// What it covers: every process that stays in the group RunProcess created
// (children, grandchildren, double-forked daemons), including a hung gate.
// A process that leaves the group on purpose (setsid, setpgid) escapes it;
// sandboxed commands also live in a pid namespace that dies with tandem
// (platform/sandbox.h), which catches those too. Needs no namespaces and no
// privileges.
//
// The guard runs in its own session, ignores SIGINT/SIGTERM/SIGHUP (a Ctrl-C
// at the terminal reaches tandem, which then stops its children itself) and
// keeps no descriptor but its pipe and no working directory but "/", so it
// holds no lock, pipe, terminal or directory of tandem's.
//
// Thread-safety: GuardGroup and ForgetGroup may be called from any thread.
//
// Second line of defence, for when the guard dies with tandem (both killed at
// once): once SetOwnerTag was called, RunProcess puts TANDEM_OWNER=<tag> into
// every child's environment, and the next tandem that takes the repository
// over from a dead holder kills what still carries that holder's tag
// (KillLeftoversOf). Processes that drop their environment escape it.
#pragma once

#include <sys/types.h>

#include <string>

namespace tandem::platform {

inline constexpr char kOwnerVariable[] = "TANDEM_OWNER";

// Sets the tag RunProcess gives children from now on: a string no other
// process shares (the CLI uses "<pid>.<process start time>").
void SetOwnerTag(const std::string& tag);

// "TANDEM_OWNER=<tag>", or "" before SetOwnerTag.
std::string OwnerEnvEntry();

// Kills (SIGKILL) every process whose environment holds TANDEM_OWNER=`tag`
// (processes of other users are not readable and not touched). Returns how
// many it signalled.
int KillLeftoversOf(const std::string& tag);

// Registers process group `pgid` (its leader not yet reaped). Best effort:
// when the guard cannot be started (fork or pipe failed), returns false and
// the group is only stopped by RunProcess itself.
bool GuardGroup(pid_t pgid);

// Starts this process's guard if it has none yet. RunProcess calls it before
// it spawns, so that registering the new group afterwards is one write and
// not a fork: a caller killed in between no longer leaves a child unguarded
// for the milliseconds a fork takes under load.
void EnsureOrphanGuard();

// Unregisters `pgid`. Call it before reaping the group's leader, so a
// recycled pid is never killed.
void ForgetGroup(pid_t pgid);

// The guard's pid (0 before the first GuardGroup or when it could not start).
// For tests and diagnostics.
pid_t OrphanGuardPid();

// For tests: guards started from now on close inherited descriptors one by
// one, the path taken where close_range fails (kernels before 5.9, seccomp).
void SkipCloseRangeForTesting();

}  // namespace tandem::platform
