// IgnoredPathPolicy: how a fresh worktree gets the ignored directories that
// builds and gates need (node_modules, build/, target/, .venv). A worktree
// checkout holds only what git tracks; these directories are ignored, so
// each is either brought over from the source worktree or rebuilt.
//
// Modes, per path (a path relative to the worktree root):
//   kClone         copy-on-write clone of the source directory: every file
//                  is cloned with the FICLONE ioctl (a reflink: instant and
//                  sharing blocks, on btrfs and xfs) and copied when the file
//                  system has no reflinks (ext4). The copy is the worktree's
//                  own: a build writing into it never reaches another
//                  worktree nor the source.
//   kSymlink       a symlink to the source directory: free, but shared, so
//                  writes through it reach the source and every other
//                  worktree. Only for caches no gate writes into.
//   kSetupCommand  nothing is copied; `setup_command` (the user's own, from
//                  verify.md or config) is handed back to the caller, who
//                  runs it in the worktree under the sandbox and job budget
//                  like any command. This library never runs it.
//   kSkip          left out: the worktree starts without it.
// Sharing read-only through a bind mount is the sandbox's business (the
// worktree library cannot make a directory read-only for one process).
//
// Symlinks are never followed, in the source or in the new worktree (a
// repository may make `pkg` a link to anywhere): a directory on a policy's
// path that is a symlink fails the policy with FailedPrecondition naming it;
// a policy's path that is itself a symlink, and every symlink inside a
// cloned directory, is copied as a symlink.
//
// The default (DefaultIgnoredPathPolicies): kClone for each of
// node_modules, .venv, target and build that exists as a directory at the
// source root and is ignored there; nothing else. Cloning keeps a gate
// passing in a fresh worktree as it passed in the source (same dependencies,
// warm build directory) and never lets one agent's build write into
// another's. Its cost is a full copy on file systems without reflinks:
// configure kSymlink or kSetupCommand for very large directories.
//
// Thread-safety: plain data and free functions; safe from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::workspace {

enum class IgnoredPathMode { kClone, kSymlink, kSetupCommand, kSkip };

struct IgnoredPathPolicy {
  std::string path;           // relative to the worktree root, no "..", no leading '/'
  IgnoredPathMode mode = IgnoredPathMode::kClone;
  std::string setup_command;  // kSetupCommand only: run in the worktree root

  bool operator==(const IgnoredPathPolicy&) const = default;
};

// A command the caller must run in a new worktree (kSetupCommand).
struct SetupCommand {
  std::string path;     // the policy's path
  std::string command;  // run with the worktree root as working directory
  bool operator==(const SetupCommand&) const = default;
};

// The documented default for the worktree at `source_root` (see above).
// `is_ignored(path)` says whether git ignores `path` there.
std::vector<IgnoredPathPolicy> DefaultIgnoredPathPolicies(
    const std::filesystem::path& source_root,
    const std::function<bool(const std::string&)>& is_ignored);

// InvalidArgument naming the first bad policy: a path that is empty,
// absolute, has "." or ".." parts or names .git; a setup command that is
// empty.
Status ValidateIgnoredPathPolicies(const std::vector<IgnoredPathPolicy>& policies);

// Applies `policies` from `source_root` to `dest_root` (both worktree roots).
// Sources that do not exist are skipped. Returns the setup commands the
// caller must run. InvalidArgument as ValidateIgnoredPathPolicies says;
// FailedPrecondition naming a symlink (or file) standing where a directory
// of a policy's path must be, in either tree; Io (naming the file) when
// copying fails.
Result<std::vector<SetupCommand>> ApplyIgnoredPathPolicies(
    const std::filesystem::path& source_root, const std::filesystem::path& dest_root,
    const std::vector<IgnoredPathPolicy>& policies);

// Copies the tree at `from` to `to`: directories, symlinks as links, regular
// files by FICLONE with a plain copy as the fallback, permission bits kept.
// Files already at `to` (tracked content a checkout wrote) are kept; other
// file types (sockets, fifos) are skipped. Below `from` and `to` nothing is
// reached through a symlink (FailedPrecondition for a symlink at `to`'s side
// where a directory must go).
Status CloneTree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace tandem::workspace
