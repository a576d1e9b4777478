// Internal: TreeWatcher, which paths of a worktree changed since it last
// said, so that a checkpoint of a step with unknown effects (a shell
// command) costs what the step changed instead of a rescan.
//
// It watches (platform::FsWatch) every directory a checkpoint can capture
// from: not .git/ or .tandem/, not nested repositories, not ignored
// directories unless they hold recorded files or are protected (not exempt,
// see ignored_files.h); plus .git/info,
// for the exclude file. Directories created later are watched as their
// creation is seen, and reported whole, which covers files made in them
// before their watch existed.
//
// Any doubt makes Take() answer "unknown" and the caller must rescan fully
// and Start() a new watcher, arming it before the rescan so that nothing
// falls between the two: a lost event (kernel queue overflow), the watch
// limit reached, a directory renamed, an ignore file (.gitignore,
// .git/info/exclude) changed, a nested repository appearing, or more
// changed paths than a rescan would cost.
//
// Not thread-safe. Borrows the repository, the stat cache and the ignored
// files' record, which must outlive it.
#pragma once

#include <git2.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/platform/fs_watch.h"
#include "tandem/workspace/ignored_files.h"
#include "tandem/workspace/stat_cache.h"

namespace tandem::workspace::internal {

class TreeWatcher {
 public:
  // Watches the worktree at `root` (ends in '/'). Unavailable when inotify
  // is out of instances or watches: the caller then rescans every time.
  static Result<std::unique_ptr<TreeWatcher>> Start(git_repository* repo, const std::string& root,
                                                    const StatCache* cache,
                                                    const IgnoredFiles* ignored);

  // Reads what the kernel has queued so far into the pending set. Cheap;
  // called by every operation so that the kernel queue never overflows.
  void Collect();

  // Every path that may have changed since the last Take() (sorted), or
  // nullopt when the watcher cannot tell. Clears the pending set either way.
  std::optional<std::vector<std::string>> Take();

  size_t watch_count() const { return watch_->watch_count(); }

 private:
  TreeWatcher(git_repository* repo, std::string root, const StatCache* cache,
              const IgnoredFiles* ignored, std::unique_ptr<platform::FsWatch> watch)
      : repo_(repo), root_(std::move(root)), cache_(cache), ignored_(ignored),
        watch_(std::move(watch)) {}

  // Watches `dir` and the capturable directories under it. False when
  // something makes the watcher unreliable (watch limit).
  bool WatchTree(const std::string& dir);
  bool Capturable(const std::string& dir);
  void OnEvent(const platform::FsWatch::Event& event);

  git_repository* repo_;
  std::string root_;
  const StatCache* cache_;
  const IgnoredFiles* ignored_;
  std::unique_ptr<platform::FsWatch> watch_;
  std::vector<std::string> nested_;  // nested repositories: only their .git is of interest
  std::set<std::string> pending_;
  bool doubt_ = false;
  bool leaf_by_link_count_ = false;
};

}  // namespace tandem::workspace::internal
