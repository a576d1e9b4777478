#include "tandem/workspace/ignored_files.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "tandem/workspace/touched_paths.h"
#include "tandem/workspace/worktree_io.h"

namespace tandem::workspace::internal {
namespace {

bool Glob(const std::string& pattern, std::string_view text, int flags) {
  return fnmatch(pattern.c_str(), std::string(text).c_str(), flags) == 0;
}

// Protected files under directory `rel` (recursively): exempt directories,
// nested repositories and .git are skipped, as a scan would.
void Walk(const std::string& root, const std::string& rel, const Protection& rules,
          std::vector<std::string>& out) {
  std::string full = root + rel;
  struct stat st{};
  if (lstat((full + "/.git").c_str(), &st) == 0) return;
  DIR* d = opendir(full.c_str());
  if (d == nullptr) return;
  std::vector<std::string> subdirs;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0 ||
        std::strcmp(e->d_name, ".git") == 0) {
      continue;
    }
    std::string child = rel + "/" + e->d_name;
    if (lstat((root + child).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!rules.Exempt(child, true)) subdirs.push_back(std::move(child));
    } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && !rules.Exempt(child, false)) {
      out.push_back(std::move(child));
    }
  }
  closedir(d);
  for (const std::string& s : subdirs) Walk(root, s, rules, out);
}

bool SameStat(const git_index_entry& e, const struct stat& st, git_filemode_t mode) {
  return e.mode == static_cast<uint32_t>(mode) &&
         e.mtime.seconds == static_cast<int32_t>(st.st_mtim.tv_sec) &&
         e.mtime.nanoseconds == static_cast<uint32_t>(st.st_mtim.tv_nsec) &&
         e.ctime.seconds == static_cast<int32_t>(st.st_ctim.tv_sec) &&
         e.ctime.nanoseconds == static_cast<uint32_t>(st.st_ctim.tv_nsec) &&
         e.ino == static_cast<uint32_t>(st.st_ino) &&
         e.file_size == static_cast<uint32_t>(st.st_size);
}

}  // namespace

const std::vector<std::string>& Protection::DefaultExempt() {
  static const std::vector<std::string> kDefault = {
      // Build trees and dependency caches.
      "build/", "_build/", "cmake-build-*/", "out/", "dist/", "target/", "node_modules/",
      "bower_components/", ".gradle/", ".venv/", "venv/", "__pycache__/", ".tox/", ".nox/",
      ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".cache/", ".next/", ".nuxt/",
      ".parcel-cache/", ".turbo/", "coverage/", ".eggs/", "*.egg-info/",
      // Compiler output.
      "*.o", "*.obj", "*.a", "*.lib", "*.so", "*.dylib", "*.dll", "*.exe", "*.pyc", "*.pyo",
      "*.class", "*.d", "*.gcda", "*.gcno"};
  return kDefault;
}

bool Protection::Matches(std::string_view path, bool is_dir) const {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (const std::string& p : exempt_) {
    if (p.empty()) continue;
    bool dir_only = p.back() == '/';
    if (dir_only && !is_dir) continue;
    std::string pattern = dir_only ? p.substr(0, p.size() - 1) : p;
    if (pattern.find('/') != std::string::npos) {
      if (Glob(pattern.front() == '/' ? pattern.substr(1) : pattern, path, FNM_PATHNAME)) return true;
    } else if (Glob(pattern, name, 0)) {
      return true;
    }
  }
  return false;
}

bool Protection::Exempt(std::string_view path, bool is_dir) const {
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (Matches(path.substr(0, slash), true)) return true;
  }
  return Matches(path, is_dir);
}

IgnoredFiles::IgnoredFiles(git_repository* repo, Protection rules, IndexPtr index)
    : repo_(repo), root_(git_repository_workdir(repo)), rules_(std::move(rules)),
      index_(std::move(index)) {}

IgnoredFiles::~IgnoredFiles() = default;

Result<std::unique_ptr<IgnoredFiles>> IgnoredFiles::Load(git_repository* repo, Protection rules) {
  std::string path = std::string(git_repository_path(repo)) + "tandem-ignored.index";
  git_index* raw = nullptr;
  if (git_index_open(&raw, path.c_str()) < 0) {
    // Unreadable (a torn write): it is only a cache; start over.
    git_error_clear();
    unlink(path.c_str());
    TANDEM_GIT_CALL(git_index_open(&raw, path.c_str()), "opening " + path);
  }
  IndexPtr index(raw);
  return std::unique_ptr<IgnoredFiles>(new IgnoredFiles(repo, std::move(rules), std::move(index)));
}

Status IgnoredFiles::Record(const std::string& path) {
  WorkdirStat s = TANDEM_WS_TRY(StatPath(root_, path));
  if (!s.is_file()) return ForgetAll(path);
  const git_index_entry* existing = git_index_get_bypath(index_.get(), path.c_str(), 0);
  if (existing != nullptr && SameStat(*existing, s.st, s.mode)) return Status::Ok();
  git_oid id = TANDEM_WS_TRY(HashPath(repo_, root_, path, s.mode, /*store=*/true));
  git_index_entry e{};
  e.ctime.seconds = static_cast<int32_t>(s.st.st_ctim.tv_sec);
  e.ctime.nanoseconds = static_cast<uint32_t>(s.st.st_ctim.tv_nsec);
  e.mtime.seconds = static_cast<int32_t>(s.st.st_mtim.tv_sec);
  e.mtime.nanoseconds = static_cast<uint32_t>(s.st.st_mtim.tv_nsec);
  e.dev = static_cast<uint32_t>(s.st.st_dev);
  e.ino = static_cast<uint32_t>(s.st.st_ino);
  e.mode = s.mode;
  e.uid = s.st.st_uid;
  e.gid = s.st.st_gid;
  e.file_size = static_cast<uint32_t>(s.st.st_size);
  e.id = id;
  e.path = path.c_str();
  // A file replacing a recorded directory (or the reverse) must not collide.
  RETURN_IF_ERROR(ForgetAll(path));
  TANDEM_GIT_CALL(git_index_add(index_.get(), &e), "recording " + path);
  dirty_ = true;
  return Status::Ok();
}

Status IgnoredFiles::ForgetAll(const std::string& path) {
  int rc = git_index_remove_bypath(index_.get(), path.c_str());
  if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "forgetting " + path);
  if (!path.empty()) {
    rc = git_index_remove_directory(index_.get(), path.c_str(), 0);
    if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "forgetting " + path);
  } else {
    TANDEM_GIT_CALL(git_index_clear(index_.get()), "clearing the ignored index");
  }
  git_error_clear();
  dirty_ = true;
  return Status::Ok();
}

Status IgnoredFiles::Scan(const std::vector<std::string>& ignored) {
  std::vector<std::string> present;
  for (const std::string& p : ignored) {
    if (p.empty() || IsPrivatePath(p)) continue;
    if (p.back() == '/') {
      std::string dir = p.substr(0, p.size() - 1);
      if (!rules_.Exempt(dir, true)) Walk(root_, dir, rules_, present);
    } else {
      present.push_back(p);
    }
  }
  return Sync("", present);
}

Status IgnoredFiles::Sync(const std::string& path, const std::vector<std::string>& present) {
  std::set<std::string> stale;
  size_t n = git_index_entrycount(index_.get());
  std::string prefix = path + "/";
  for (size_t i = 0; i < n; ++i) {
    const char* p = git_index_get_byindex(index_.get(), i)->path;
    if (path.empty() || p == path || std::strncmp(p, prefix.c_str(), prefix.size()) == 0) {
      stale.insert(p);
    }
  }
  for (const std::string& p : present) {
    if (rules_.Exempt(p, false) || IsPrivatePath(p)) continue;
    RETURN_IF_ERROR(Record(p));
    stale.erase(p);
  }
  for (const std::string& p : stale) {
    int rc = git_index_remove_bypath(index_.get(), p.c_str());
    if (rc < 0 && rc != GIT_ENOTFOUND) return GitError(rc, "forgetting " + p);
    dirty_ = true;
  }
  git_error_clear();
  return Status::Ok();
}

Result<git_oid> IgnoredFiles::Tree() {
  git_oid tree;
  TANDEM_GIT_CALL(git_index_write_tree_to(&tree, index_.get(), repo_), "writing ignored files' tree");
  return tree;
}

bool IgnoredFiles::HasEntriesUnder(const std::string& dir) const {
  size_t pos = 0;
  std::string prefix = dir + "/";
  bool found = git_index_find_prefix(&pos, index_.get(), prefix.c_str()) == 0;
  git_error_clear();
  return found;
}

Status IgnoredFiles::Save() {
  if (!dirty_) return Status::Ok();
  TANDEM_GIT_CALL(git_index_write(index_.get()), "saving the ignored files' stat index");
  dirty_ = false;
  return Status::Ok();
}

}  // namespace tandem::workspace::internal
