#include "tandem/workspace/tree_watcher.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "tandem/workspace/touched_paths.h"
#include "tandem/workspace/worktree_io.h"

namespace tandem::workspace::internal {
namespace {

using platform::FsWatch;

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path[dir.size()] == '/' &&
         path.compare(0, dir.size(), dir) == 0;
}

}  // namespace

Result<std::unique_ptr<TreeWatcher>> TreeWatcher::Start(git_repository* repo,
                                                        const std::string& root,
                                                        const StatCache* cache,
                                                        const IgnoredFiles* ignored) {
  std::unique_ptr<FsWatch> watch = TRY(FsWatch::Create(root));
  std::unique_ptr<TreeWatcher> watcher(
      new TreeWatcher(repo, root, cache, ignored, std::move(watch)));
  watcher->leaf_by_link_count_ = LinkCountCountsSubdirs(root);
  // The exclude file lives in the git directory (the common one for a
  // linked worktree); it may not exist yet, and then neither may info/.
  std::string info = std::string(git_repository_commondir(repo)) + "info";
  Status info_watched = watcher->watch_->Add(info);
  if (!info_watched.ok() && info_watched.code() != StatusCode::kNotFound) return info_watched;
  if (!watcher->WatchTree("")) return Unavailable("inotify watch limit reached");
  return watcher;
}

bool TreeWatcher::Capturable(const std::string& dir) {
  if (IsPrivatePath(dir)) return false;
  // Recorded files are captured whatever the ignore rules say; and the
  // index lookup is far cheaper than libgit2's ignore matching.
  if (cache_->HasEntriesUnder(dir) || ignored_->HasEntriesUnder(dir)) return true;
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, repo_, dir.c_str()) < 0) {
    git_error_clear();
    return true;  // when in doubt, watch
  }
  return ignored == 0 || !ignored_->rules().Exempt(dir, /*is_dir=*/true);
}

bool TreeWatcher::WatchTree(const std::string& top) {
  std::vector<std::string> stack = {top};
  while (!stack.empty()) {
    std::string dir = std::move(stack.back());
    stack.pop_back();
    std::string abs = root_ + dir;
    // Watch first, list second: a subdirectory made in between is then
    // reported by the watch instead of missed by both.
    Status added = watch_->Add(dir);
    if (!added.ok()) {
      if (added.code() == StatusCode::kNotFound) continue;  // gone meanwhile: its parent says so
      return false;
    }
    struct stat st {};
    if (!dir.empty() && lstat((abs + "/.git").c_str(), &st) == 0) {
      // A nested repository: git skips its content, and so do we, but its
      // own .git going away must still be noticed (see OnEvent).
      nested_.push_back(dir);
      continue;
    }
    if (leaf_by_link_count_ && lstat(abs.c_str(), &st) == 0 && st.st_nlink == 2) continue;
    DIR* d = opendir(abs.c_str());
    if (d == nullptr) continue;  // gone, or unreadable: a rescan could not read it either
    while (const dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        is_dir = lstat((abs + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      if (!is_dir) continue;
      std::string sub = Join(dir, name);
      if (Capturable(sub)) stack.push_back(std::move(sub));
    }
    closedir(d);
  }
  return true;
}

void TreeWatcher::OnEvent(const FsWatch::Event& event) {
  const std::string& path = event.path;
  if (!path.empty() && path.front() == '/') {  // .git/info: exclude (or attributes) changed
    doubt_ = true;
    return;
  }
  std::string_view name = BaseName(path);
  if (name == ".git") {
    // A nested repository appeared, vanished or changed kind; the root's
    // own .git only changes attributes here.
    if (path != ".git") doubt_ = true;
    return;
  }
  for (const std::string& nested : nested_) {
    if (Under(path, nested)) return;
  }
  if (IsPrivatePath(path)) return;
  if (name == ".gitignore") {
    doubt_ = true;
    return;
  }
  if (event.is_dir) {
    switch (event.change) {
      case FsWatch::Change::kMovedIn:
      case FsWatch::Change::kMovedOut:
        doubt_ = true;  // every path under it moved, and its watches' paths are stale
        return;
      case FsWatch::Change::kCreated:
        if (!Capturable(path)) return;
        if (!WatchTree(path)) doubt_ = true;
        break;
      case FsWatch::Change::kContent:
        return;  // a directory's mode or times: git records neither
      case FsWatch::Change::kRemoved:
        break;
    }
  }
  pending_.insert(path);
}

void TreeWatcher::Collect() {
  if (doubt_) return;
  Result<FsWatch::Batch> batch = watch_->Drain();
  if (!batch || batch->lost) {
    doubt_ = true;
    return;
  }
  for (const FsWatch::Event& event : batch->events) {
    OnEvent(event);
    if (doubt_) return;
  }
  // Past this many paths, capturing them one by one costs more than a rescan.
  if (pending_.size() > std::max<size_t>(1000, cache_->entry_count() / 8)) doubt_ = true;
}

std::optional<std::vector<std::string>> TreeWatcher::Take() {
  Collect();
  std::vector<std::string> paths(pending_.begin(), pending_.end());
  pending_.clear();
  if (doubt_) return std::nullopt;
  return paths;
}

}  // namespace tandem::workspace::internal
