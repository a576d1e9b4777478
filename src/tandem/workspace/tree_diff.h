// Internal: per-file differences between two trees, with line counts.
#pragma once

#include <git2.h>

#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/file_change.h"

namespace tandem::workspace::internal {

// Changes from `from` to `to`, sorted by path. Identical subtrees are skipped
// by id, so the cost follows the size of the change.
Result<std::vector<FileChange>> DiffTrees(git_repository* repo, git_tree* from, git_tree* to);

// Only the paths of those changes (files and symlinks, sorted): what a
// restore must visit. No blob is read, so the cost is the walk of the
// subtrees that differ.
Result<std::vector<std::string>> ChangedPaths(git_repository* repo, git_tree* from, git_tree* to);

// The same difference as a unified patch (git diff format).
Result<std::string> PatchText(git_repository* repo, git_tree* from, git_tree* to);

}  // namespace tandem::workspace::internal
