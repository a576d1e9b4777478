// GitLibrary: keeps libgit2 initialized for as long as it is alive, its first
// initialization run on a background thread.
//
// libgit2's initialization is not cheap here: the distribution builds it with
// mbedTLS and a default certificate location, so git_libgit2_init parses the
// system's CA bundle (~55 M instructions, ~11 ms of CPU on the benchmark
// machine; docs/PERFORMANCE.md section 9) although tandem never uses
// libgit2's network transports. Every Workspace and Worktree call holds a
// reference (git_handle.h LibGit2Session), and when the last one goes the
// library shuts down, so the next Open pays it again. A command that will
// open workspaces holds one GitLibrary from its start (cli::Runtime): the
// parse overlaps the command's other start-up work (configuration, the HTTP
// transport, the ledger) instead of delaying its first Workspace::Open, and
// is paid once per process.
//
// Cost: constructing starts one thread; the first Workspace::Open waits only
// for what is left of the initialization. Destruction joins the thread.
// Thread-safety: construct and destroy on one thread; git_libgit2_init is
// itself thread-safe and refcounted, so Workspaces may open on any thread
// meanwhile.
#pragma once

#include <thread>

namespace tandem::workspace {

class GitLibrary {
 public:
  GitLibrary();
  ~GitLibrary();
  GitLibrary(const GitLibrary&) = delete;
  GitLibrary& operator=(const GitLibrary&) = delete;

 private:
  std::thread init_;
};

}  // namespace tandem::workspace
