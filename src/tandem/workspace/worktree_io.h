// Internal: reading and writing single paths of a working tree byte for byte
// (no CRLF conversion, ident or filter driver from .gitattributes, unlike
// git: a restore must give back exactly what was there), with modes from
// lstat and symlinks as links. Paths are
// normalized worktree-relative paths (see touched_paths.h); `root` is the
// worktree's absolute path ending in '/'.
#pragma once

#include <git2.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {

// What lstat says is at a path: mode is 0 when nothing is there,
// GIT_FILEMODE_TREE for a directory, GIT_FILEMODE_UNREADABLE for sockets,
// fifos and devices (never captured).
struct WorkdirStat {
  git_filemode_t mode = static_cast<git_filemode_t>(0);
  struct stat st{};
  bool exists() const { return mode != 0; }
  bool is_file() const {
    return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
           mode == GIT_FILEMODE_LINK;
  }
};

Result<WorkdirStat> StatPath(const std::string& root, const std::string& path);

// The blob id of the bytes of the file (or symlink target) at `path`,
// unfiltered. With `store`, the blob is also written to the object database.
Result<git_oid> HashPath(git_repository* repo, const std::string& root, const std::string& path,
                         git_filemode_t mode, bool store);

// Makes `path` hold blob `id` with `mode` (regular, executable or symlink):
// creates missing parent directories, replaces a file standing where a parent
// directory must go and a directory standing at `path`. An existing regular
// file is rewritten in place (not atomically), keeping its inode and its
// permission bits apart from the executable bits.
Status WritePath(git_repository* repo, const std::string& root, const std::string& path,
                 const git_oid& id, git_filemode_t mode);

// Removes the file or symlink at `path`. A directory at `path` loses every
// file that `keep` does not claim (given the relative path), then its
// emptied subdirectories. Missing paths are fine.
template <typename Keep>
Status RemovePath(const std::string& root, const std::string& path, Keep keep);

// Files and symlinks under directory `path`, recursively, as relative paths
// (sorted). Skips nested repositories (directories holding a .git) the way
// git does. Empty if `path` is not a directory.
Result<std::vector<std::string>> ListFiles(const std::string& root, const std::string& path);

// True on filesystems where a directory's link count is 2 + its
// subdirectories (ext4, xfs, tmpfs); on others (btrfs, FUSE) it says nothing.
bool LinkCountCountsSubdirs(const std::string& root);

// Makes directory `path` and its missing parents. Never follows a symlink:
// a file or symlink standing where a directory must go is replaced.
Status MakeDirs(const std::string& root, const std::string& path);

// Removes `dir` and then its parents while they are empty (never the root).
void PruneEmptyDirs(const std::string& root, std::string dir);

// Implementation detail of RemovePath.
Status RemoveFileOrEmptyDir(const std::string& root, const std::string& path);

template <typename Keep>
Status RemovePath(const std::string& root, const std::string& path, Keep keep) {
  WorkdirStat s = TANDEM_WS_TRY(StatPath(root, path));
  if (!s.exists()) return Status::Ok();
  if (s.mode != GIT_FILEMODE_TREE) return RemoveFileOrEmptyDir(root, path);
  std::vector<std::string> files = TANDEM_WS_TRY(ListFiles(root, path));
  for (const std::string& f : files) {
    if (!keep(f)) RETURN_IF_ERROR(RemoveFileOrEmptyDir(root, f));
  }
  // Deepest directories first; non-empty ones (kept files) stay.
  std::vector<std::string> dirs;
  for (const std::string& f : files) {
    for (size_t slash = f.rfind('/'); slash != std::string::npos && slash > path.size();
         slash = f.rfind('/', slash - 1)) {
      dirs.push_back(f.substr(0, slash));
    }
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return a.size() > b.size() || (a.size() == b.size() && a < b);
  });
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  dirs.push_back(path);
  for (const std::string& d : dirs) (void)RemoveFileOrEmptyDir(root, d);
  return Status::Ok();
}

}  // namespace tandem::workspace::internal
