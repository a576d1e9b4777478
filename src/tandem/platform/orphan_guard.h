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
// keeps no descriptor but its pipe, so it holds no lock, pipe or terminal of
// tandem's.
//
// Thread-safety: GuardGroup and ForgetGroup may be called from any thread.
#pragma once

#include <sys/types.h>

namespace tandem::platform {

// Registers process group `pgid` (its leader not yet reaped). Best effort:
// when the guard cannot be started (fork or pipe failed), returns false and
// the group is only stopped by RunProcess itself.
bool GuardGroup(pid_t pgid);

// Unregisters `pgid`. Call it before reaping the group's leader, so a
// recycled pid is never killed.
void ForgetGroup(pid_t pgid);

// The guard's pid (0 before the first GuardGroup or when it could not start).
// For tests and diagnostics.
pid_t OrphanGuardPid();

}  // namespace tandem::platform
