// RepoLock: one writer per repository. Every tandem command that writes the
// working tree or the plan (do, run, resume, plan, undo, init) takes it
// before it checks anything and holds it for its whole life; readers
// (status, steer, stats) never take it. A process takes it once and shares it
// (by reference) among all the agents it runs.
//
// The lock is an flock(2) on <git common dir>/tandem/writer.lock, so every
// worktree of one repository shares it, and the kernel releases it when the
// holder dies, however it dies (kill -9, a crash): the next Acquire takes a
// crashed holder's lock over without any staleness guess. The flock belongs
// to the open file, not to the process: a second Acquire of a repository this
// process already holds fails like any other contender's, and the descriptor
// is close-on-exec, so no child keeps the lock alive past its exec (between
// fork and exec it does: cli/writer_lock.cc retries a lock with no live
// holder for that moment).
//
// The holder writes who it is into the file (process identity, command,
// start time, working tree) so a contender can name it. That record is
// advisory: the flock decides. A holder that releases the lock empties the
// record; one a dead holder left behind is handed to its successor
// (previous()) so the successor can say what it took over.
//
// Thread-safety: Acquire and ReadHolder may be called from any thread; a
// RepoLock is immutable after Acquire.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tandem/base/status.h"
#include "tandem/ledger/process_identity.h"

namespace tandem::ledger {

// Who holds (or held) a repository's writer lock.
struct LockHolder {
  ProcessIdentity process{};
  std::string command{};      // "tandem run": the subcommand, never its arguments
  int64_t started_at_ms = 0;  // wall clock, ms since the epoch
  // The working tree the holder writes: worktrees share one lock, so it may
  // be another checkout than the contender's ("" in a record without it).
  std::string root{};
};

class RepoLock {
 public:
  // The lock file of the repository whose working tree is `repo_root`:
  // <git common dir>/tandem/writer.lock (GitCommonDir, ledger/git_dirs.h).
  // kNotFound when `repo_root` has no .git.
  static Result<std::filesystem::path> PathForRepo(const std::filesystem::path& repo_root);

  // Takes the lock at `path` without waiting, creating the file (and its
  // directory) when missing, and records `holder`. Errors: kAlreadyExists
  // when another open lock (another process, or another RepoLock of this
  // one) holds it; ReadHolder then names the holder. kIo when the file
  // cannot be created or locked.
  static Result<RepoLock> Acquire(const std::filesystem::path& path, LockHolder holder);

  // The live holder recorded at `path`; nullopt when there is none, or the
  // record is missing, unreadable, or left by a process that no longer runs
  // (for example a holder that has the lock but has not written yet).
  static std::optional<LockHolder> ReadHolder(const std::filesystem::path& path);

  RepoLock(RepoLock&& other) noexcept;
  RepoLock& operator=(RepoLock&& other) noexcept;
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;
  // Empties the record, then releases the lock.
  ~RepoLock();

  // The record a holder that died with the lock left behind (it did not
  // release it): tandem was killed or crashed while it wrote the repository.
  const std::optional<LockHolder>& previous() const { return previous_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  RepoLock(int fd, std::filesystem::path path, std::optional<LockHolder> previous)
      : fd_(fd), path_(std::move(path)), previous_(std::move(previous)) {}
  void Release();

  int fd_ = -1;
  std::filesystem::path path_;
  std::optional<LockHolder> previous_;
};

}  // namespace tandem::ledger
