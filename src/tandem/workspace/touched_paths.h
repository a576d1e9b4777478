// TouchedPaths: what a caller knows about which paths may differ from the
// last state the Workspace recorded. tandem's own file tools know exactly
// (Only), a shell command's effects are unknown (Unknown: full rescan).
// A directory path stands for everything under it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::workspace {

class TouchedPaths {
 public:
  // Exactly these paths (relative to the worktree root; files or directories,
  // existing or not). Paths under .git/ or .tandem/ are dropped; "" or "."
  // means the whole tree, which is the same as Unknown().
  static TouchedPaths Only(std::vector<std::string> paths);
  static TouchedPaths Unknown();

  bool unknown() const { return unknown_; }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  bool unknown_ = false;
  std::vector<std::string> paths_;
};

// Normalizes a worktree-relative path: '/' separated, no "." components,
// no trailing slash. Returns "" for the root. InvalidArgument for absolute
// paths and paths that escape the root through "..".
Result<std::string> NormalizeRelativePath(std::string_view path);

// True for paths tandem never captures or touches: .git and .tandem at any
// depth (nested repositories included) and the root itself.
bool IsPrivatePath(std::string_view normalized_path);

// Normalizes, drops private paths, sorts, removes duplicates and paths whose
// ancestor is also listed. InvalidArgument on the first bad path.
Result<std::vector<std::string>> CanonicalPathSet(const std::vector<std::string>& paths);

}  // namespace tandem::workspace
