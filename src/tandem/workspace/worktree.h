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
//                                       leave it alone; tandem-policy-paths
//                                       (its ignored-path policy paths,
//                                       which Reset leaves alone)
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
// 100,000 files (docs/PERFORMANCE.md), so tasks do not get a new worktree
// each: they recycle pooled ones with Reset().
//
// Reset: a recycled worktree must hold exactly what a fresh Create at the
// target would: the target's files (bytes unfiltered, modes, types:
// regular, executable, symlink), no untracked file, no protected ignored
// file (.env, app.sqlite: ignored_files.h) and no empty directory, HEAD
// detached at the target, and an index with the target's entries and the
// files' stat data (`git status` clean). Two things stay, as the worktree's
// own: its ignored-path policy directories (ignored_paths.h: the clone of
// build/ or node_modules/ it was created with, as later builds in it left
// it; a symlink policy's link), and exempt ignored build output elsewhere
// (*.o, __pycache__/: workspace.h's exempt patterns), so a slot keeps a warm
// build. Neither ever reaches another worktree.
// How a reset finds what to rewrite, which sets its cost:
//   - With the Workspace the worktree's last task ran in (`previous`), alive
//     since its StartRun: the paths its watch (tree_watcher.h) reported
//     changed since its last checkpoint, plus its files with other hard
//     links, captured as an unknown-effects checkpoint would; then the tree
//     diff from that state to the target, which skips identical subtrees.
//     The cost is what the task changed plus what differs between the two
//     checkpoints, and one sequential write of the index: no per-file lstat.
//     The Workspace comes back with no active run and still knowing the
//     tree, so the next task's StartRun costs what the reset wrote, not a
//     scan either.
//   - Fallback, the full scan (one lstat per file, plus what differs):
//     whenever that knowledge is not complete: no `previous` (the worktree's
//     state is unknown: a new process, resume after a crash), a `previous`
//     whose watch is in doubt (kernel queue overflow, a directory renamed, an
//     ignore file changed, more changes than a scan costs, inotify
//     unavailable), a capture it never recorded (a failed step), a file that
//     gained hard links, or its caller's DistrustWatch() (something ran that
//     the watch cannot see, e.g. a command outside the sandbox writing
//     through a link). The watch's blind spots are Workspace's (workspace.h):
//     writes through shared memory mappings, a global excludes file.
// Both paths run the same restore, so they leave the same tree.
//
// Thread-safety: the functions are safe to call from several threads for
// different ids (each opens its own repository handle); not for one id. A
// Workspace handed to or returned by Reset is not thread-safe (workspace.h):
// one thread at a time, e.g. the slot's task thread, then the scheduler.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/checkpoint_id.h"
#include "tandem/workspace/ignored_paths.h"
#include "tandem/workspace/workspace.h"

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

  // Whether `id` is a worktree id Create accepts: 1-64 of [A-Za-z0-9._-],
  // not starting with '.', no "..", not ending in ".lock". Pure.
  static bool IsValidId(std::string_view id);

  // Makes worktree `id` hold exactly checkpoint `at` (see "Reset" above),
  // moves its ref to `at`, and returns a Workspace open on it with no active
  // run, knowing its tree (StartRun on it records checkpoint 0 of the next
  // task without a scan). `previous`: the Workspace the worktree's last task
  // ran in (its run is ended, its refs kept), or null when there is none or
  // its state is unknown (then the full scan). `repo_root` is any worktree
  // of the repository. NotFound for an unknown worktree or commit;
  // InvalidArgument for a bad id, or a `previous` open on another tree; I/O
  // and git errors (the worktree is then partly reset: reset it again, or
  // remove it).
  static Result<std::unique_ptr<Workspace>> Reset(const std::filesystem::path& repo_root,
                                                  std::string_view id, const CheckpointId& at,
                                                  std::unique_ptr<Workspace> previous = nullptr);

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
