// Internal: edits a git tree at a few paths, at a cost that follows the
// number of paths and their depth rather than the size of the tree
// (git_tree_create_updated rewrites only the trees on the edited paths).
#pragma once

#include <git2.h>

#include <string>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::workspace::internal {

struct TreeChange {
  std::string path;  // normalized, non-empty
  bool remove = false;
  git_oid id{};                               // when !remove
  git_filemode_t mode = GIT_FILEMODE_BLOB;    // when !remove; GIT_FILEMODE_TREE allowed
};

// Returns the id of `base` with every change applied. Removing an absent path
// is a no-op. Whatever stands in the way of an upsert is replaced: a file
// where a directory must go, or a directory where a file must go. At most one
// change per path (the last one wins).
Result<git_oid> ApplyTreeChanges(git_repository* repo, git_tree* base,
                                 const std::vector<TreeChange>& changes);

}  // namespace tandem::workspace::internal
