// Internal: IgnoredFiles, the git-ignored files tandem protects.
//
// A file that existed before a step must not be deleted or clobbered without
// tandem being able to restore it, ignored or not: `.env`, `app.sqlite`, a
// local config. Reproducible build output is exempt (the patterns of
// Protection: build/, node_modules/, *.o, ...). Protected ignored files are
// recorded in a tree of their own, never in a checkpoint's tree: their
// content (often secrets) then stays out of diffs, patches, the gate cache's
// key and the model's view. Workspace stores that tree beside each
// checkpoint (see workspace.h).
//
// Cost follows what changed, as for tracked files: a persistent stat index
// (<git dir>/tandem-ignored.index) spares hashing unchanged files at a full
// scan; the tree watcher reports changed paths in protected ignored
// directories as in any other.
//
// Not thread-safe. Borrows the repository, which must outlive it.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {

// Which ignored paths are reproducible build output, not worth protecting.
// Pattern forms: `name/` matches a directory called name at any depth (and
// everything under it); a pattern without '/' matches a file's or
// directory's name (glob: `*.o`); `a/b*` (a '/' inside) matches the whole
// path from the root (glob, '*' not crossing '/').
class Protection {
 public:
  static const std::vector<std::string>& DefaultExempt();
  explicit Protection(std::vector<std::string> exempt = DefaultExempt())
      : exempt_(std::move(exempt)) {}

  // True when `path` (normalized) or one of its parent directories is exempt.
  bool Exempt(std::string_view path, bool is_dir) const;

 private:
  bool Matches(std::string_view path, bool is_dir) const;
  std::vector<std::string> exempt_;
};

class IgnoredFiles {
 public:
  static Result<std::unique_ptr<IgnoredFiles>> Load(git_repository* repo, Protection rules);
  ~IgnoredFiles();

  const Protection& rules() const { return rules_; }

  // Records exactly the protected files among `ignored`, the ignored paths a
  // full scan found (files, and directories ending in '/' whose content is
  // all ignored), and forgets every other entry.
  Status Scan(const std::vector<std::string>& ignored);

  // Makes the record at and under `path` match `present`: the ignored files
  // now at or under `path` (exempt ones are dropped here).
  Status Sync(const std::string& path, const std::vector<std::string>& present);

  // The tree of every protected file recorded (the empty tree when none).
  Result<git_oid> Tree();

  // True when a file is recorded under directory `dir`.
  bool HasEntriesUnder(const std::string& dir) const;

  // Writes the stat index, so the next process hashes only what changed.
  Status Save();

 private:
  IgnoredFiles(git_repository* repo, Protection rules, IndexPtr index);
  Status Record(const std::string& path);
  Status ForgetAll(const std::string& path);

  git_repository* repo_;
  std::string root_;  // ends in '/'
  Protection rules_;
  IndexPtr index_;
  bool dirty_ = false;
};

}  // namespace tandem::workspace::internal
