#include "tandem/workspace/stat_cache.h"

#include <git2/sys/repository.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "tandem/workspace/touched_paths.h"

namespace tandem::workspace::internal {
namespace {

// Copies `from` to a fresh temporary file, keeping its mtime: libgit2 treats
// entries at least as new as the index file as "racily clean" and re-hashes
// them, which must keep working on the copy.
Result<std::string> CopyIndexFile(const std::string& from) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tandem-index-XXXXXX").string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int out = mkstemp(name.data());
  if (out < 0) return IoError(std::string("creating index copy: ") + std::strerror(errno));
  std::string path(name.data());
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    close(out);
    unlink(path.c_str());
    return IoError("opening " + from + ": " + std::strerror(errno));
  }
  struct stat st{};
  bool ok = fstat(in, &st) == 0;
  std::vector<char> buf(1 << 20);
  while (ok) {
    ssize_t n = read(in, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0 || write(out, buf.data(), static_cast<size_t>(n)) != n) ok = false;
  }
  if (ok) {
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ok = futimens(out, times) == 0;
  }
  close(in);
  if (close(out) != 0) ok = false;
  if (!ok) {
    unlink(path.c_str());
    return IoError("copying index " + from + ": " + std::strerror(errno));
  }
  return path;
}

bool IsTandemPath(const char* path) {
  return std::strncmp(path, ".tandem/", 8) == 0 || std::strcmp(path, ".tandem") == 0;
}

}  // namespace

Result<std::unique_ptr<StatCache>> StatCache::Load(git_repository* repo) {
  std::string index_path = std::string(git_repository_path(repo)) + "index";
  git_index* raw = nullptr;
  std::string copy_path;
  if (access(index_path.c_str(), F_OK) == 0) {
    copy_path = TRY(CopyIndexFile(index_path));
    int rc = git_index_open(&raw, copy_path.c_str());
    if (rc < 0) {
      // E.g. a split index, which libgit2 cannot read: start from nothing and
      // pay for hashing every file once.
      git_error_clear();
      raw = nullptr;
    }
  }
  if (raw == nullptr) {
    if (!copy_path.empty()) unlink(copy_path.c_str());
    copy_path.clear();
    TANDEM_GIT_CALL(git_index_new(&raw), "creating in-memory index");
  }
  IndexPtr index(raw);
  std::unique_ptr<StatCache> cache(new StatCache(repo, std::move(index), std::move(copy_path)));
  TANDEM_GIT_CALL(git_index_conflict_cleanup(cache->index_.get()), "dropping unmerged entries");
  int rc = git_index_remove_directory(cache->index_.get(), ".tandem", 0);
  if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "dropping .tandem from index copy");
  git_error_clear();
  TANDEM_GIT_CALL(git_repository_set_index(repo, cache->index_.get()), "attaching index copy");
  return cache;
}

StatCache::~StatCache() {
  if (!copy_path_.empty()) unlink(copy_path_.c_str());
}

Result<git_oid> StatCache::Scan() {
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
               GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
  opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
  git_diff* raw = nullptr;
  TANDEM_GIT_CALL(git_diff_index_to_workdir(&raw, repo_, index_.get(), &opts),
                  "scanning the working tree");
  DiffPtr diff(raw);

  // Deletions first, so that a file replacing a directory (or the reverse)
  // never collides with the entries it replaces.
  size_t n = git_diff_num_deltas(diff.get());
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
      bool deleted = d->status == GIT_DELTA_DELETED;
      if ((pass == 0) != deleted) continue;
      const char* path = deleted ? d->old_file.path : d->new_file.path;
      if (IsTandemPath(path) || IsPrivatePath(path)) continue;
      size_t len = std::strlen(path);
      if (len > 0 && path[len - 1] == '/') continue;  // a nested repository, not ours to capture
      switch (d->status) {
        case GIT_DELTA_DELETED:
          TANDEM_GIT_CALL(git_index_remove_bypath(index_.get(), path), std::string("forgetting ") + path);
          break;
        case GIT_DELTA_MODIFIED:
        case GIT_DELTA_UNTRACKED:
        case GIT_DELTA_TYPECHANGE:
        case GIT_DELTA_ADDED:
          TANDEM_GIT_CALL(git_index_add_bypath(index_.get(), path), std::string("capturing ") + path);
          break;
        default:
          break;
      }
    }
  }
  git_oid tree;
  TANDEM_GIT_CALL(git_index_write_tree_to(&tree, index_.get(), repo_), "writing checkpoint tree");
  return tree;
}

Status StatCache::Record(const std::string& path, const git_oid& id, git_filemode_t mode,
                         const struct stat& st) {
  git_index_entry e{};
  e.ctime.seconds = static_cast<int32_t>(st.st_ctim.tv_sec);
  e.ctime.nanoseconds = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  e.mtime.seconds = static_cast<int32_t>(st.st_mtim.tv_sec);
  e.mtime.nanoseconds = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  e.dev = static_cast<uint32_t>(st.st_dev);
  e.ino = static_cast<uint32_t>(st.st_ino);
  e.mode = mode;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.file_size = static_cast<uint32_t>(st.st_size);
  e.id = id;
  e.path = path.c_str();
  TANDEM_GIT_CALL(git_index_add(index_.get(), &e), "recording " + path);
  return Status::Ok();
}

Status StatCache::Forget(const std::string& path) {
  int rc = git_index_remove_bypath(index_.get(), path.c_str());
  if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "forgetting " + path);
  rc = git_index_remove_directory(index_.get(), path.c_str(), 0);
  if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "forgetting " + path);
  git_error_clear();
  return Status::Ok();
}

bool StatCache::HasEntriesUnder(const std::string& dir) const {
  size_t pos = 0;
  std::string prefix = dir + "/";
  bool found = git_index_find_prefix(&pos, index_.get(), prefix.c_str()) == 0;
  git_error_clear();
  return found;
}

size_t StatCache::entry_count() const { return git_index_entrycount(index_.get()); }

}  // namespace tandem::workspace::internal
