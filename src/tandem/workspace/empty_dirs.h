// Internal: EmptyDirs, the empty directories of a worktree.
//
// A git tree cannot hold an empty directory, yet a step that removes one
// (`rmdir x`, `rm -r x` of a directory holding only empty directories) must
// be undoable. So a checkpoint records the worktree's empty directories
// beside its tree: the leaves only (a directory with no entry at all;
// `mkdir -p` of the leaves gives back their parents). Not recorded: .git and
// .tandem, nested repositories, and directories that are reproducible build
// output (`skip` says which, see ignored_files.h's Protection).
//
// Cost follows what changed: Scan(), a full scan's companion, costs one
// lstat per directory that holds recorded files and has no other
// subdirectories, and one read (getdents) of each other directory; no file
// is stat'ed. Update() re-reads only a changed path's subtree and its parent.
//
// Encoding: Encode() gives one line per directory, `Tandem-Empty-Dir: <path>`
// with '\' and newline escaped (`\\`, `\n`), for a commit message; Decode()
// reads them back from one.
//
// Not thread-safe.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem::workspace::internal {

class EmptyDirs {
 public:
  // `root` is the worktree, ending in '/'. `skip(dir)` is true for a
  // directory whose content tandem neither records nor restores.
  EmptyDirs(std::string root, std::function<bool(const std::string&)> skip);

  // Finds every empty directory of the worktree. `files` (sorted) are files
  // known to be there, the full scan's: a directory holding some whose link
  // count shows no other subdirectory is not read (ext4, xfs, tmpfs).
  void Scan(const std::vector<std::string>& files);

  // `path` (normalized; the root is ignored) may have been created, removed,
  // emptied or filled: re-reads it (a directory: its whole subtree) and
  // its parent directory.
  void Update(const std::string& path);

  const std::set<std::string>& dirs() const { return dirs_; }

  static std::string Encode(const std::set<std::string>& dirs);
  static std::set<std::string> Decode(std::string_view message);

 private:
  // Directory -> its subdirectories that hold known files.
  using KnownDirs = std::unordered_map<std::string, std::vector<std::string>>;

  // Adds the empty directories at and under `dir`.
  void Walk(const std::string& dir, const KnownDirs& known);
  // True when `dir` is a directory with no entry; false for anything else.
  bool IsEmptyDir(const std::string& dir) const;

  std::string root_;
  std::function<bool(const std::string&)> skip_;
  bool link_count_counts_subdirs_;
  std::set<std::string> dirs_;
};

}  // namespace tandem::workspace::internal
