// Internal: StatCache, tandem's private in-memory index of one worktree.
//
// It starts as a copy of the user's index (so the stat data git already has
// spares hashing unchanged files; entries whose blob a CRLF or ident filter
// may have altered are marked for rehashing, since tandem stores unfiltered
// bytes) and is never written back: the copy lives
// in <git dir>/tandem-tmp/index-<pid>-XXXXXX, which this object deletes; a
// killed process's copy is deleted by the next Load() in that worktree. Scan() makes it
// match the working tree (stat everything, hash only what changed; the one
// full-cost operation); Record()/Forget() keep it in step with the files
// tandem itself writes or captures, so later scans stay cheap.
//
// Not thread-safe. The repository keeps a pointer to the index while the
// StatCache lives (git_repository_set_index), so it must outlive neither.
#pragma once

#include <git2.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {

class StatCache {
 public:
  // Copies the worktree's index (or starts empty when there is none) and
  // makes it `repo`'s index for this process. Unmerged entries are dropped:
  // the working tree file is what a checkpoint records.
  static Result<std::unique_ptr<StatCache>> Load(git_repository* repo);
  ~StatCache();

  // Brings the cache up to date with the working tree (tracked files and
  // untracked, non-ignored ones; .tandem/ excluded) and returns its tree.
  // With `ignored`, also lists the ignored paths found: files, and
  // directories (ending in '/') holding only ignored content.
  Result<git_oid> Scan(std::vector<std::string>* ignored = nullptr);

  // Stores the bytes at `path` (unfiltered) and records them with their stat
  // data; forgets `path` when no file or symlink is there.
  Status Capture(const std::string& path);

  // `path` (a file or symlink) now holds `id` with `mode`, as lstat'ed in `st`.
  Status Record(const std::string& path, const git_oid& id, git_filemode_t mode,
                const struct stat& st);

  // Nothing is recorded at `path` or under it any more.
  Status Forget(const std::string& path);

  // Writes the cache, with its stat data, as the worktree's own index
  // (<git dir>/index, replaced atomically), leaving out entries at or under
  // `leave_out`: after a reset the cache holds exactly the checkout git must
  // see. One sequential write of the whole index (no lstat), plus a content
  // check of the entries git would call racily clean.
  Status WriteWorktreeIndex(const std::vector<std::string>& leave_out);

  // Every recorded path.
  std::vector<std::string> Paths() const;

  // True when `st` (from lstat) matches the stat data recorded for `path`.
  bool Unchanged(const std::string& path, const struct stat& st) const;

  // True when a file is recorded under directory `dir`.
  bool HasEntriesUnder(const std::string& dir) const;
  size_t entry_count() const;

 private:
  StatCache(git_repository* repo, IndexPtr index, std::string copy_path)
      : repo_(repo), root_(git_repository_workdir(repo)), index_(std::move(index)),
        copy_path_(std::move(copy_path)) {}

  git_repository* repo_;
  std::string root_;  // the worktree, ending in '/'
  IndexPtr index_;
  std::string copy_path_;  // private index copy, removed in the destructor
};

}  // namespace tandem::workspace::internal
