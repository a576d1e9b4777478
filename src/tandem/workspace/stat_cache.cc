#include "tandem/workspace/stat_cache.h"
#include "tandem/workspace/temp_copies.h"

#include <git2/sys/repository.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string_view>
#include <filesystem>
#include <vector>

#include "tandem/workspace/touched_paths.h"
#include "tandem/workspace/worktree_io.h"

namespace tandem::workspace::internal {
namespace {

// Where index copies live: under the worktree's git directory, never in
// $TMPDIR, so that nothing tandem writes outside the repository's git
// directory outlives it. Named index-<pid>-XXXXXX.
std::string TempDir(git_repository* repo) { return std::string(git_repository_path(repo)) + "tandem-tmp"; }

// Copies `from` to a fresh file in `dir`, keeping its mtime: libgit2 treats
// entries at least as new as the index file as "racily clean" and re-hashes
// them, which must keep working on the copy.
Result<std::string> CopyIndexFile(const std::string& from, const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("creating " + dir + ": " + std::strerror(errno));
  }
  RemoveDeadIndexCopies(dir);
  std::string tmpl = dir + "/index-" + std::to_string(getpid()) + "-XXXXXX";
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

bool MentionsConversion(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  std::vector<char> buf(1 << 16);
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) text.append(buf.data(), static_cast<size_t>(n));
  close(fd);
  for (const char* word : {"text", "eol", "crlf", "ident", "[attr]"}) {
    if (text.find(word) != std::string::npos) return true;
  }
  return false;
}

// Whether libgit2's built-in filters (CRLF conversion, ident) may apply to
// some path: core.autocrlf, or an attributes file that names them. A cheap
// test that spares the per-path check in the common case.
bool FiltersMayApply(git_repository* repo, git_index* index) {
  git_config* raw_config = nullptr;
  if (git_repository_config_snapshot(&raw_config, repo) == 0) {
    int autocrlf = 0;
    git_config_entry* entry = nullptr;
    bool set = git_config_get_entry(&entry, raw_config, "core.autocrlf") == 0;
    if (set) {
      set = git_config_parse_bool(&autocrlf, entry->value) < 0 || autocrlf != 0;  // "input" too
      git_config_entry_free(entry);
    }
    git_buf attributes_file = GIT_BUF_INIT;
    bool has_file = git_config_get_path(&attributes_file, raw_config, "core.attributesFile") == 0;
    bool file_mentions = has_file && MentionsConversion(attributes_file.ptr);
    git_buf_dispose(&attributes_file);
    git_config_free(raw_config);
    git_error_clear();
    if (set || file_mentions) return true;
  }
  git_error_clear();
  if (MentionsConversion(std::string(git_repository_commondir(repo)) + "info/attributes")) return true;
  git_buf system = GIT_BUF_INIT;
  if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, &system) == 0) {
    bool mentions = MentionsConversion(std::string(system.ptr) + "/gitattributes");
    git_buf_dispose(&system);
    if (mentions) return true;
  }
  git_error_clear();
  const char* workdir = git_repository_workdir(repo);
  size_t n = git_index_entrycount(index);
  for (size_t i = 0; i < n; ++i) {
    const char* path = git_index_get_byindex(index, i)->path;
    size_t len = std::strlen(path);
    if (len >= 14 && std::strcmp(path + len - 14, ".gitattributes") == 0 &&
        (len == 14 || path[len - 15] == '/') && MentionsConversion(std::string(workdir) + path)) {
      return true;
    }
  }
  return false;
}

// The user's index records blobs as git stores them: CRLF converted, ident
// collapsed. tandem stores unfiltered bytes, so an entry that a filter may
// have altered is marked stale (size, mtime and id that match no file):
// the first scan rehashes it from the working tree.
Status DistrustFilteredEntries(git_repository* repo, git_index* index) {
  if (!FiltersMayApply(repo, index)) return Status::Ok();
  std::vector<git_index_entry> stale;
  std::vector<std::string> paths;
  size_t n = git_index_entrycount(index);
  for (size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index, i);
    if (!S_ISREG(e->mode)) continue;
    git_filter_list* filters = nullptr;
    int rc = git_filter_list_load(&filters, repo, nullptr, e->path, GIT_FILTER_TO_ODB,
                                  GIT_FILTER_DEFAULT);
    if (rc < 0) return GitError(rc, std::string("reading attributes of ") + e->path);
    if (filters == nullptr) continue;
    git_filter_list_free(filters);
    stale.push_back(*e);
    paths.emplace_back(e->path);
  }
  git_oid bogus;
  TANDEM_GIT_CALL(git_odb_hash(&bogus, "tandem: rehash", 14, GIT_OBJECT_BLOB), "hashing");
  for (size_t i = 0; i < stale.size(); ++i) {
    stale[i].path = paths[i].c_str();
    stale[i].id = bogus;
    stale[i].mtime = {0, 0};
    stale[i].ctime = {0, 0};
    stale[i].file_size = stale[i].file_size + 1;
    TANDEM_GIT_CALL(git_index_add(index, &stale[i]), "marking " + paths[i] + " for rehash");
  }
  return Status::Ok();
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
    copy_path = TRY(CopyIndexFile(index_path, TempDir(repo)));
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
  RETURN_IF_ERROR(DistrustFilteredEntries(repo, cache->index_.get()));
  TANDEM_GIT_CALL(git_repository_set_index(repo, cache->index_.get()), "attaching index copy");
  return cache;
}

StatCache::~StatCache() {
  if (!copy_path_.empty()) unlink(copy_path_.c_str());
}

Result<git_oid> StatCache::Scan(std::vector<std::string>* ignored) {
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
               GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
  if (ignored != nullptr) opts.flags |= GIT_DIFF_INCLUDE_IGNORED;
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
      if (d->status == GIT_DELTA_IGNORED) {
        if (ignored != nullptr) ignored->emplace_back(path);
        continue;
      }
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
          RETURN_IF_ERROR(Capture(path));
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

Status StatCache::Capture(const std::string& path) {
  WorkdirStat s = TANDEM_WS_TRY(StatPath(root_, path));
  if (!s.is_file()) return Forget(path);  // gone, or became something git cannot hold
  git_oid id = TANDEM_WS_TRY(HashPath(repo_, root_, path, s.mode, /*store=*/true));
  return Record(path, id, s.mode, s.st);
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

Status StatCache::WriteWorktreeIndex(const std::vector<std::string>& leave_out) {
  std::string target = std::string(git_repository_path(repo_)) + "index";
  if (copy_path_.empty()) {
    // No index file behind the cache (the worktree had none): give it one.
    std::string dir = TempDir(repo_);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return IoError("creating " + dir + ": " + std::strerror(errno));
    }
    std::string tmpl = dir + "/index-" + std::to_string(getpid()) + "-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = mkstemp(name.data());
    if (fd < 0) return IoError(std::string("creating index copy: ") + std::strerror(errno));
    close(fd);
    unlink(name.data());  // git_index_open wants no file, or a valid index
    git_index* raw = nullptr;
    TANDEM_GIT_CALL(git_index_open(&raw, name.data()), "creating index copy");
    IndexPtr disk(raw);
    for (size_t i = 0, n = git_index_entrycount(index_.get()); i < n; ++i) {
      TANDEM_GIT_CALL(git_index_add(disk.get(), git_index_get_byindex(index_.get(), i)),
                      "copying the index");
    }
    TANDEM_GIT_CALL(git_repository_set_index(repo_, disk.get()), "attaching index copy");
    index_ = std::move(disk);
    copy_path_ = name.data();
  }
  // Entries left out are taken out for the write and put back after.
  struct Saved {
    std::string path;
    git_index_entry entry;
  };
  std::vector<Saved> saved;
  for (const std::string& l : leave_out) {
    if (const git_index_entry* e = git_index_get_bypath(index_.get(), l.c_str(), 0)) {
      saved.push_back({l, *e});
    }
    std::string prefix = l + "/";
    size_t pos = 0;
    if (git_index_find_prefix(&pos, index_.get(), prefix.c_str()) != 0) {
      git_error_clear();
      continue;
    }
    for (size_t n = git_index_entrycount(index_.get()); pos < n; ++pos) {
      const git_index_entry* e = git_index_get_byindex(index_.get(), pos);
      if (!std::string_view(e->path).starts_with(prefix)) break;
      saved.push_back({e->path, *e});
    }
  }
  for (const Saved& s : saved) {
    TANDEM_GIT_CALL(git_index_remove_bypath(index_.get(), s.path.c_str()), "leaving out " + s.path);
  }
  int rc = git_index_write(index_.get());
  for (Saved& s : saved) {
    s.entry.path = s.path.c_str();
    TANDEM_GIT_CALL(git_index_add(index_.get(), &s.entry), "recording " + s.path);
  }
  if (rc < 0) return GitError(rc, "writing the index of " + root_);
  std::string copied = TRY(CopyIndexFile(copy_path_, TempDir(repo_)));
  if (rename(copied.c_str(), target.c_str()) != 0) {
    int err = errno;
    unlink(copied.c_str());
    return IoError("replacing " + target + ": " + std::strerror(err));
  }
  return Status::Ok();
}

std::vector<std::string> StatCache::Paths() const {
  size_t n = git_index_entrycount(index_.get());
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(git_index_get_byindex(index_.get(), i)->path);
  return out;
}

bool StatCache::Unchanged(const std::string& path, const struct stat& st) const {
  const git_index_entry* e = git_index_get_bypath(index_.get(), path.c_str(), 0);
  return e != nullptr && e->mtime.seconds == static_cast<int32_t>(st.st_mtim.tv_sec) &&
         e->mtime.nanoseconds == static_cast<uint32_t>(st.st_mtim.tv_nsec) &&
         e->ctime.seconds == static_cast<int32_t>(st.st_ctim.tv_sec) &&
         e->ctime.nanoseconds == static_cast<uint32_t>(st.st_ctim.tv_nsec) &&
         e->ino == static_cast<uint32_t>(st.st_ino) &&
         e->file_size == static_cast<uint32_t>(st.st_size);
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

namespace tandem::workspace {

void RemoveDeadIndexCopies(const std::string& temp_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(temp_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("index-")) continue;
    long pid = std::strtol(name.c_str() + 6, nullptr, 10);
    if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace tandem::workspace
