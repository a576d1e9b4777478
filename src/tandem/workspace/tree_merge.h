// MergeCheckpoints: the three-way merge of checkpoint trees that brings an
// agent's work from its worktree into the run's integrated line (libgit2's
// git_merge_trees, with rename detection; nothing is checked out).
//
// base = the checkpoint the agent's worktree started from, ours = the
// integrated checkpoint now (the user's checkout), theirs = the agent's last
// checkpoint. Paths in `keep_ours` (tandem's own plan.md and progress.md,
// which the scheduler alone writes) always come from ours: theirs' versions
// of them are ignored. A clean merge is written as a commit of the merged
// tree whose parent is ours, so Workspace::Restore(merged, Only(changed))
// puts exactly theirs' contribution into the checkout; a conflict reports
// every conflicting path and writes nothing.
//
// Only the checkpoints' trees merge: protected ignored files an agent
// changed in its worktree (workspace.h) stay there.
//
// Thread-safety: opens its own repository handle; safe to call from several
// threads (objects are written to the shared object database).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/checkpoint_id.h"

namespace tandem::workspace {

struct TreeMerge {
  // The merged commit (parent: ours); nullopt when the merge conflicts.
  std::optional<CheckpointId> merged;
  std::vector<std::string> conflicts;  // sorted paths, when it conflicts
  std::vector<std::string> changed;    // sorted paths where merged differs from ours
};

// `repo_root` is any worktree of the repository. NotFound for an unknown
// checkpoint; kIo for libgit2 failures. A conflict is a result, not an error.
Result<TreeMerge> MergeCheckpoints(const std::filesystem::path& repo_root,
                                   const CheckpointId& base, const CheckpointId& ours,
                                   const CheckpointId& theirs,
                                   const std::vector<std::string>& keep_ours);

}  // namespace tandem::workspace
