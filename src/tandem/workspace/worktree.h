// Worktree: a lightweight linked git worktree at a checkpoint, for one agent
// (a plan task or a variant), living under the repository's git directory
// and sharing its object database.
//
// Layout, for id <id> and the common git directory <git> (the main
// repository's .git, also when created from a linked worktree):
//   <git>/tandem/worktrees/<id>/        the working tree (its .git is a file)
//   <git>/worktrees/tandem-<id>/        git's admin dir: HEAD (detached at
//                                       the checkpoint), index, gitdir,
//                                       commondir, and `locked`, so
//                                       `git worktree prune` and `git gc`
//                                       leave it alone
//   refs/tandem/worktrees/<id>          the checkpoint it was created at
// Git itself sees a normal linked worktree (`git worktree list` shows it).
// It is written with plumbing, not git_worktree_add: libgit2 would create or
// check out a branch, and the user's branches, HEAD and index stay untouched.
// Checkpoints taken in it with Workspace::Open(root()) go to the shared
// object database and refs/tandem/runs/..., visible from every worktree.
// Its files hold the checkpoint's bytes exactly (no CRLF, ident or other
// .gitattributes filter), as a restore writes them.
//
// Cost: creation checks out every tracked file (libgit2) and writes an index
// with the files' stat data, so a Workspace opened on it starts without
// hashing anything. That is one file creation per tracked file: seconds at
// 100,000 files (docs/PERFORMANCE.md). Reset() moves an existing worktree to
// another checkpoint at the cost of what differs plus one status scan, which
// is how a pool of recycled worktrees makes a task's start cheap.
//
// Thread-safety: the functions are safe to call from several threads for
// different ids (each opens its own repository handle); not for one id.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/checkpoint_id.h"
#include "tandem/workspace/ignored_paths.h"

namespace tandem::workspace {

struct WorktreeOptions {
  // How ignored directories are brought over from the source worktree;
  // nullopt means DefaultIgnoredPathPolicies (ignored_paths.h).
  std::optional<std::vector<IgnoredPathPolicy>> ignored;
};

class Worktree {
 public:
  // Creates worktree `id` ([A-Za-z0-9._-], 1-64 chars, not starting with
  // '.') at checkpoint `at` (any commit: a checkpoint or HEAD's commit) of
  // the repository whose worktree is `source_root`; ignored directories come
  // from `source_root` as `options` says. AlreadyExists if the id is in use
  // (worktree directory, admin dir or ref); NotFound for an unknown commit;
  // InvalidArgument for a bad id or policy. A failed creation leaves nothing.
  static Result<Worktree> Create(const std::filesystem::path& source_root, std::string_view id,
                                 const CheckpointId& at, const WorktreeOptions& options = {});

  // Removes worktree `id` completely: its files (ignored ones too), git's
  // admin dir and its ref. Whatever part is already gone is fine (so resume
  // can clean up after a crash mid-creation); NotFound only when no part of
  // it existed. `repo_root` is any worktree of the repository.
  static Status Remove(const std::filesystem::path& repo_root, std::string_view id);

  // The ids of tandem's worktrees in the repository (any part present),
  // sorted: what a resume finds left over.
  static Result<std::vector<std::string>> List(const std::filesystem::path& repo_root);

  // Makes worktree `id` match checkpoint `at`: files that differ are
  // rewritten, files the checkpoint lacks are removed (ignored files stay),
  // HEAD and the ref move to `at`. Cost: one status scan plus what differs.
  static Status Reset(const std::filesystem::path& repo_root, std::string_view id,
                      const CheckpointId& at);

  // Where worktree `id` of the repository with common git dir `git_dir`
  // lives, and its ref.
  static std::filesystem::path PathFor(const std::filesystem::path& git_dir, std::string_view id);
  static std::string RefFor(std::string_view id);  // refs/tandem/worktrees/<id>

  const std::string& id() const { return id_; }
  const std::filesystem::path& root() const { return root_; }  // the working tree
  const CheckpointId& checkpoint() const { return at_; }
  // Commands of kSetupCommand policies, for the caller to run in root().
  const std::vector<SetupCommand>& setup_commands() const { return setup_; }

 private:
  Worktree(std::string id, std::filesystem::path root, CheckpointId at,
           std::vector<SetupCommand> setup)
      : id_(std::move(id)), root_(std::move(root)), at_(std::move(at)), setup_(std::move(setup)) {}

  std::string id_;
  std::filesystem::path root_;
  CheckpointId at_;
  std::vector<SetupCommand> setup_;
};

}  // namespace tandem::workspace
