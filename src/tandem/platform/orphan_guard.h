// Nothing tandem starts outlives it: every child RunProcess or StdioProcess
// starts (SpawnGuarded, spawn.h) registers its process group with the orphan
// guard before it execs, a small process forked from tandem the first time
// it is needed. The guard holds the read end of a pipe whose only write
// end is tandem's; when tandem dies, however it dies (kill -9, a crash), the
// kernel closes that end, and the guard kills (SIGKILL) every group still
// registered, then exits. A child about to exec holds a copy of that end
// until its exec, so the guard reads the registration of a child still
// starting when tandem died before it sees the end of the pipe. When tandem
// exits normally nothing is registered any more and the guard just exits.
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
// Thread-safety: every function may be called from any thread;
// RegisterGroupFromChild also from a child between clone and exec.
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

// Starts this process's guard if it has none yet, and returns the write end
// of its pipe, on which a child registers its own group before it execs
// (RegisterGroupFromChild); -1 when the guard could not start (fork or pipe
// failed: best effort, the child is then only stopped by its caller). The
// descriptor (O_CLOEXEC) stays open while this process lives; a process
// forked from it without exec starts a guard of its own. Spawns call it
// before they clone; the CLI calls it early so the fork happens
// before the repository's lock is open (writer_lock.cc).
int EnsureOrphanGuard();

// Registers process group `pgid` on `guard_fd` (EnsureOrphanGuard's
// answer): one 4-byte write, atomic among concurrent writers. For a child
// between clone and exec registering itself: async-signal-safe, no lock, no
// allocation; a SIGPIPE it raises (the guard is gone) is discarded, so it
// cannot kill the child once it unblocks signals. False when the write
// failed.
bool RegisterGroupFromChild(int guard_fd, pid_t pgid);

// Unregisters `pgid`. Call it before reaping the group's leader, so a
// recycled pid is never killed.
void ForgetGroup(pid_t pgid);

// The guard's pid (0 before the first EnsureOrphanGuard or when it could
// not start). For tests and diagnostics.
pid_t OrphanGuardPid();

}  // namespace tandem::platform
