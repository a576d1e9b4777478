// Workspace: checkpoints, diffs and rollback of one git working tree.
//
// A checkpoint records the working tree (tracked files plus untracked files
// that .gitignore does not exclude, with their modes: executable bit,
// symlinks) as a commit on a private ref, refs/tandem/runs/<run-id>/<n>.
// The checkpoints of a run form a parent chain that starts at the user's
// HEAD, so `git log refs/tandem/runs/<id>/<n>` shows a run's history and
// `git gc` keeps it. The user's index, HEAD, branches and stash are never
// read-modify-written: tandem works on a private copy of the index (see
// stat_cache.h). .git/ and .tandem/ are never captured nor touched.
//
// Cost follows what changed. StartRun() scans the whole tree once (stat
// everything, hash only files whose stat data changed); afterwards a caller
// that knows which paths a step may have touched (tandem's file tools do)
// passes them as TouchedPaths::Only and pays per path. Steps with unknown
// effects (shell commands) pass TouchedPaths::Unknown(): StartRun() also
// starts an inotify watch of the tree (tree_watcher.h), and an unknown step
// pays per path the watch reported changed. When the watch cannot be sure
// (events lost, a directory renamed, an ignore file changed, inotify
// unavailable) it rescans, as it would without the watch: either way the
// checkpoint equals what a full rescan records. A file with other hard
// links can change through a name the watch does not cover (an exempt
// directory), and making such a link reports nothing either: every full
// scan and every unknown capture start a survey of which recorded files have
// other links (in the background, one lstat each), and every unknown
// capture re-stats just those, so a write through such a link is recorded
// by the next unknown capture at the latest. A captured file that gained
// links makes that capture rescan once, as its other names are unknown. Blind spots of inotify that a rescan would see:
// writes through shared memory mappings, and changes to a global excludes
// file (core.excludesFile).
//
// Git-ignored files are protected too, except reproducible build output
// (the exempt patterns: build/, node_modules/, target/, *.o, ... extended or
// replaced with `git config --add tandem.unprotected <pattern>`, see
// docs/GUARDRAILS.md). Protected ignored files (.env, app.sqlite) are
// recorded in a tree of their own, on the commit chain
// refs/tandem/ignored/<run-id>, and each checkpoint names the commit holding
// its state (a `Tandem-Ignored:` trailer): never in the checkpoint's own
// tree, so their content stays out of diffs, patches and tree hashes.
// Empty directories, which no git tree can hold, are listed in the message
// of that same commit (empty_dirs.h): the chain gains a commit only when the
// ignored files or the empty directories change.
//
// Rollback contract: after Restore(c, paths) the working tree matches
// checkpoint `c` at `paths` exactly (created files removed, deleted files
// restored, contents and modes restored, byte for byte: no CRLF or
// .gitattributes filter applies), for protected ignored files as for the
// others, and its empty directories match c's wherever they differ from
// the last checkpoint's (an empty directory is removed only while empty).
// Exempt ignored files, and empty directories in exempt directories, are
// neither captured nor removed. Directories emptied by a restore are removed
// unless `c` has them.
//
// Thread-safety: not thread-safe. Use one Workspace per worktree (variants
// each get their own worktree and Workspace); separate Workspaces may run
// on separate threads, as they share no libgit2 objects. Two processes must
// not run the same run id at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/workspace/checkpoint_id.h"
#include "tandem/workspace/file_change.h"
#include "tandem/workspace/touched_paths.h"

namespace tandem::workspace {

namespace internal {
class WorkspaceState;
}

class Workspace {
 public:
  // Opens the worktree whose top-level directory is `root` (no upward
  // search). Cheap: nothing is scanned until StartRun(). FailedPrecondition
  // for a bare repository, NotFound when `root` is not a worktree.
  static Result<std::unique_ptr<Workspace>> Open(const std::filesystem::path& root);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // The worktree's absolute path, ending in '/'.
  const std::string& root() const;

  // Starts run `run_id` ([A-Za-z0-9._-], not starting with '.'): scans the
  // whole working tree (the one full-cost step of a run) and records
  // checkpoint 0, whose parent is HEAD. If the run already has checkpoints
  // (a resumed run), numbering and the parent chain continue instead.
  // After ResetTo() this Workspace still knows the tree, and StartRun costs
  // what the watch reports changed since (what the reset wrote), not a
  // scan; when the watch cannot tell, it scans as usual.
  // FailedPrecondition if a run is already active on this Workspace.
  Result<CheckpointId> StartRun(std::string_view run_id);

  // The active run's id; empty before StartRun().
  const std::string& run_id() const;

  // How many full scans this Workspace has made (StartRun's included);
  // tells tests and benchmarks whether an unknown step had to rescan.
  int64_t full_scans() const;

  // The next capture with TouchedPaths::Unknown() rescans the whole tree
  // instead of trusting the watch: for effects inotify may not report, e.g.
  // an approved command running outside the sandbox that writes through a
  // hard link from outside the worktree.
  void DistrustWatch();

  // The latest checkpoint of the active run (also updated by Restore).
  std::optional<CheckpointId> last_checkpoint() const;

  // Records a checkpoint of the working tree. REQUIRES: an active run, and
  // with TouchedPaths::Only, nothing outside those paths changed since the
  // last checkpoint or restore (paths that did not change are fine).
  Result<CheckpointId> Checkpoint(const TouchedPaths& touched, std::string_view label);

  // Per-file changes between two checkpoints, sorted by path, then the
  // changes of protected ignored files (FileChange::ignored). Works without
  // an active run, for checkpoints of any run.
  Result<std::vector<FileChange>> Diff(const CheckpointId& from, const CheckpointId& to);

  // The empty directories that differ between two checkpoints: `made` (in
  // `to` only) and `removed` (in `from` only), sorted. Empty when either
  // checkpoint records none (HEAD, older checkpoints).
  struct EmptyDirChanges {
    std::vector<std::string> made;
    std::vector<std::string> removed;
  };
  Result<EmptyDirChanges> DiffEmptyDirs(const CheckpointId& from, const CheckpointId& to);

  // Per-file changes from `from` to the current working tree. Same
  // REQUIRES as Checkpoint() for `touched`; records no checkpoint.
  Result<std::vector<FileChange>> DiffToWorkingTree(const CheckpointId& from,
                                                    const TouchedPaths& touched);

  // The hex id of the tree a checkpoint records: equal trees, equal hashes,
  // whatever the checkpoints' history (the gate cache's key).
  Result<std::string> TreeHash(const CheckpointId& checkpoint);

  // The bytes of the regular file at `path` (relative, '/'-separated) as
  // `checkpoint` recorded it, protected ignored files included; nullopt when
  // the checkpoint has no file there. Needs no run (reads git objects only).
  // Errors: kFailedPrecondition when the checkpoint recorded a symbolic link
  // or a directory there; git errors.
  Result<std::optional<std::string>> ReadFileAt(const CheckpointId& checkpoint,
                                                std::string_view path);

  // The difference between two checkpoints as a unified patch, for display.
  Result<std::string> Patch(const CheckpointId& from, const CheckpointId& to);

  // Makes the working tree match `target` at the given paths (Only), or
  // wherever it differs (Unknown: a rescan first). Files whose content and
  // mode already match are not rewritten. Records and returns a checkpoint
  // of the result, so the run's refs always end at the real state.
  // REQUIRES: an active run. `target` may belong to any run.
  Result<CheckpointId> Restore(const CheckpointId& target, const TouchedPaths& paths);

  // Ends the active run, if any (its checkpoints stay), and makes the
  // working tree hold exactly checkpoint `target` as a fresh checkout of it
  // would: its files with their bytes (unfiltered), modes and types;
  // untracked files, protected ignored files (ignored_files.h) and empty
  // directories removed; exempt ignored files (build output) kept, as a
  // restore keeps them. Paths at or under `keep` (normalized relative
  // paths: a worktree's ignored-path policy directories) are left exactly
  // as they are. Then writes the worktree's index (target's entries with
  // the stat data of the files, so git and the next Workspace see a clean
  // checkout) and detaches HEAD at `target`. No checkpoint is recorded; the
  // next StartRun records the result. This is Worktree::Reset's engine.
  // Cost: what changed since this Workspace last knew the tree, by its
  // watch (as an unknown-effects checkpoint: the files the watch reported,
  // those with other hard links, and the tree diff to `target`, which skips
  // identical subtrees), plus one sequential write of the index; a full
  // scan instead when it cannot tell: no run was ever started on it, the
  // watch is in doubt or unavailable, DistrustWatch(), or a capture was
  // never recorded. Errors: NotFound/InvalidArgument for a bad `target`,
  // InvalidArgument for a bad `keep` path; I/O and git errors, after which
  // the tree is partly reset and the next capture or reset scans it fully.
  Status ResetTo(const CheckpointId& target, const std::vector<std::string>& keep = {});

  // Points refs/tandem/best/<active run id> at `checkpoint`, the best attempt
  // of a failed task; the user can inspect it with
  // `git diff HEAD refs/tandem/best/<id>` and apply it.
  Status KeepBestAttempt(const CheckpointId& checkpoint);

  // The checkpoints of run `run_id` in order (checkpoint 0 first); empty if
  // the run is unknown.
  Result<std::vector<CheckpointId>> RunCheckpoints(std::string_view run_id);

  // Restores the working tree to how it was before run `run_id` (its
  // checkpoint 0) at every path the run changed (checkpoint 0 vs its last
  // checkpoint), empty directories included (one the run made is removed
  // only while still empty). FailedPrecondition naming the files if the user changed any
  // of them since the run's last checkpoint; NotFound for an unknown run.
  // REQUIRES: an active run (e.g. the undo command's own), which records
  // the result. Returns the checkpoint recorded after the undo.
  Result<CheckpointId> Undo(std::string_view run_id);

  static std::string RunRefPrefix(std::string_view run_id);    // refs/tandem/runs/<id>/
  static std::string BestAttemptRef(std::string_view run_id);  // refs/tandem/best/<id>
  static std::string IgnoredRef(std::string_view run_id);      // refs/tandem/ignored/<id>

 private:
  explicit Workspace(std::unique_ptr<internal::WorkspaceState> state);
  std::unique_ptr<internal::WorkspaceState> state_;
};

}  // namespace tandem::workspace
