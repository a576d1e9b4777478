#include "tandem/workspace/worktree_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {
namespace {

Status Errno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }

// Makes the parent directories of `path` (and `path` itself with
// `with_last`), never following a symlink: a file or symlink standing where
// a directory must go is replaced.
Status EnsureDirs(const std::string& root, const std::string& path, bool with_last) {
  std::string with = with_last ? path + "/" : path;
  for (size_t slash = with.find('/'); slash != std::string::npos; slash = with.find('/', slash + 1)) {
    std::string dir = root + with.substr(0, slash);
    struct stat st{};
    if (lstat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      if (unlink(dir.c_str()) != 0) return Errno("removing " + dir);
    } else if (errno != ENOENT) {
      return Errno("stat " + dir);
    }
    if (mkdir(dir.c_str(), 0777) != 0) return Errno("creating " + dir);
  }
  return Status::Ok();
}

Status EnsureParents(const std::string& root, const std::string& path) {
  return EnsureDirs(root, path, /*with_last=*/false);
}

Status RemoveTree(const std::string& full) {
  DIR* d = opendir(full.c_str());
  if (d == nullptr) return Errno("opening " + full);
  Status status;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    std::string child = full + "/" + e->d_name;
    struct stat st{};
    if (lstat(child.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      status = RemoveTree(child);
    } else if (unlink(child.c_str()) != 0) {
      status = Errno("removing " + child);
    }
    if (!status.ok()) break;
  }
  closedir(d);
  RETURN_IF_ERROR(status);
  if (rmdir(full.c_str()) != 0) return Errno("removing " + full);
  return Status::Ok();
}

// Writes the bytes of regular file `full` to the object database as a blob,
// streaming, with no filter applied (no CRLF conversion, no ident, no filter
// driver): a checkpoint holds exactly what the working tree held.
Result<git_oid> StoreFileBytes(git_repository* repo, const std::string& full) {
  int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Errno("reading " + full);
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    Status failed = Errno("stat " + full);
    close(fd);
    return failed;
  }
  git_odb* raw_odb = nullptr;
  git_odb_stream* stream = nullptr;
  int rc = git_repository_odb(&raw_odb, repo);
  if (rc == 0) rc = git_odb_open_wstream(&stream, raw_odb, static_cast<git_object_size_t>(st.st_size),
                                         GIT_OBJECT_BLOB);
  std::vector<char> buf(1 << 16);
  git_oid id{};
  Status status;
  while (rc == 0 && status.ok()) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno != EINTR) status = Errno("reading " + full);
      continue;
    }
    rc = git_odb_stream_write(stream, buf.data(), static_cast<size_t>(n));
  }
  // A file that grew or shrank while being read fails here (size mismatch).
  if (rc == 0 && status.ok()) rc = git_odb_stream_finalize_write(&id, stream);
  if (rc < 0 && status.ok()) status = GitError(rc, "storing " + full);
  git_odb_stream_free(stream);
  git_odb_free(raw_odb);
  close(fd);
  if (!status.ok()) return status;
  return id;
}

Status ListFilesInto(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  std::string full = root + rel;
  struct stat git_st{};
  // A nested repository (or submodule) is not ours to capture, as in git.
  if (!rel.empty() && lstat((full + "/.git").c_str(), &git_st) == 0) return Status::Ok();
  DIR* d = opendir(full.c_str());
  if (d == nullptr) return errno == ENOENT || errno == ENOTDIR ? Status::Ok() : Errno("opening " + full);
  std::vector<std::string> subdirs;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0 ||
        std::strcmp(e->d_name, ".git") == 0) {
      continue;
    }
    std::string child = rel.empty() ? e->d_name : rel + "/" + e->d_name;
    struct stat st{};
    if (lstat((root + child).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      subdirs.push_back(std::move(child));
    } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
      out.push_back(std::move(child));
    }
  }
  closedir(d);
  for (const std::string& s : subdirs) RETURN_IF_ERROR(ListFilesInto(root, s, out));
  return Status::Ok();
}

}  // namespace

Result<WorkdirStat> StatPath(const std::string& root, const std::string& path) {
  WorkdirStat s;
  std::string full = root + path;
  if (lstat(full.c_str(), &s.st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return s;
    return Errno("stat " + full);
  }
  s.mode = GitModeFromStat(s.st.st_mode);
  return s;
}

Result<git_oid> HashPath(git_repository* repo, const std::string& root, const std::string& path,
                         git_filemode_t mode, bool store) {
  git_oid id;
  if (mode == GIT_FILEMODE_LINK) {
    std::string full = root + path;
    std::string target(4096, '\0');
    ssize_t n = readlink(full.c_str(), target.data(), target.size());
    if (n < 0) return Errno("reading link " + full);
    target.resize(static_cast<size_t>(n));
    if (store) {
      TANDEM_GIT_CALL(git_blob_create_from_buffer(&id, repo, target.data(), target.size()),
                      "storing link " + path);
    } else {
      TANDEM_GIT_CALL(git_odb_hash(&id, target.data(), target.size(), GIT_OBJECT_BLOB),
                      "hashing link " + path);
    }
    return id;
  }
  std::string full = root + path;
  if (!store) {
    TANDEM_GIT_CALL(git_odb_hashfile(&id, full.c_str(), GIT_OBJECT_BLOB), "hashing " + path);
    return id;
  }
  return StoreFileBytes(repo, full);
}

Status WritePath(git_repository* repo, const std::string& root, const std::string& path,
                 const git_oid& id, git_filemode_t mode) {
  RETURN_IF_ERROR(EnsureParents(root, path));
  std::string full = root + path;
  WorkdirStat existing = TANDEM_WS_TRY(StatPath(root, path));
  if (existing.mode == GIT_FILEMODE_TREE) RETURN_IF_ERROR(RemoveTree(full));

  git_blob* raw_blob = nullptr;
  TANDEM_GIT_CALL(git_blob_lookup(&raw_blob, repo, &id), "reading blob for " + path);
  BlobPtr blob(raw_blob);
  bool in_place = existing.mode != 0 && S_ISREG(existing.st.st_mode);
  if (existing.exists() && existing.mode != GIT_FILEMODE_TREE && (!in_place || mode == GIT_FILEMODE_LINK)) {
    if (unlink(full.c_str()) != 0 && errno != ENOENT) return Errno("removing " + full);
    in_place = false;
  }

  if (mode == GIT_FILEMODE_LINK) {
    std::string target(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                       static_cast<size_t>(git_blob_rawsize(blob.get())));
    if (symlink(target.c_str(), full.c_str()) != 0) return Errno("creating link " + full);
    return Status::Ok();
  }

  // The blob's raw bytes: no smudge filter (tandem stores unfiltered bytes),
  // and none of git_blob_filter's binary detection, which yields nothing for
  // binary content.
  const char* content = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  size_t size = static_cast<size_t>(git_blob_rawsize(blob.get()));
  bool exec = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
  // An existing file is rewritten in place: its inode, hard links, owner
  // and permission bits survive, and no inode churn slows the filesystem.
  // A new file gets open()'s umask-derived mode, as with git checkout.
  // No O_TRUNC: ext4 flushes files truncated to zero on close
  // (auto_da_alloc), which costs milliseconds per file; ftruncate to the new
  // size after writing instead.
  int fd = in_place ? open(full.c_str(), O_WRONLY | O_CLOEXEC)
                    : open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exec ? 0777 : 0666);
  if (fd < 0) return Errno("writing " + full);
  bool ok = true;
  size_t done = 0;
  while (ok && done < size) {
    ssize_t n = write(fd, content + done, size - done);
    if (n < 0) {
      ok = errno == EINTR;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (ok && in_place) ok = ftruncate(fd, static_cast<off_t>(done)) == 0;
  if (ok && in_place) {
    mode_t perms = existing.st.st_mode & 07777 & ~0111;
    if (exec) perms |= (perms & 0444) >> 2;
    if (perms != (existing.st.st_mode & 07777)) ok = fchmod(fd, perms) == 0;
  }
  if (close(fd) != 0) ok = false;
  if (!ok) return Errno("writing " + full);
  return Status::Ok();
}

Result<std::vector<std::string>> ListFiles(const std::string& root, const std::string& path) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(ListFilesInto(root, path, out));
  std::sort(out.begin(), out.end());
  return out;
}

bool LinkCountCountsSubdirs(const std::string& root) {
  struct statfs fs {};
  if (statfs(root.c_str(), &fs) != 0) return false;
  return fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC || fs.f_type == TMPFS_MAGIC;
}

Status MakeDirs(const std::string& root, const std::string& path) {
  return EnsureDirs(root, path, /*with_last=*/true);
}

void PruneEmptyDirs(const std::string& root, std::string dir) {
  while (!dir.empty()) {
    if (rmdir((root + dir).c_str()) != 0) return;
    size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
  }
}

Status RemoveFileOrEmptyDir(const std::string& root, const std::string& path) {
  std::string full = root + path;
  if (unlink(full.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  if (errno == EISDIR || errno == EPERM) {
    if (rmdir(full.c_str()) == 0 || errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) {
      return Status::Ok();
    }
  }
  return Errno("removing " + full);
}

}  // namespace tandem::workspace::internal
