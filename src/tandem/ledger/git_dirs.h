// Where tandem's per-repository state meets git: the common git directory
// (shared by every worktree of a repository) and keeping tandem's own files
// out of the user's `git status`.
//
// Thread-safety: thread-compatible (KeepStateOutOfGitStatus writes a file;
// callers hold the repository's writer lock, ledger/repo_lock.h).
#pragma once

#include <filesystem>

#include "tandem/base/status.h"

namespace tandem::ledger {

// The git common directory of the working tree `repo_root`, found the way git
// finds it: `<root>/.git` when it is a directory; for a linked worktree,
// `.git` is a file `gitdir: <dir>` and `<dir>/commondir` points to the
// shared directory. kNotFound when `repo_root` has no .git.
Result<std::filesystem::path> GitCommonDir(const std::filesystem::path& repo_root);

// The one ledger of the repository whose working tree is `repo_root`, shared
// by all its worktrees (docs/LEDGER.md): <root>/.tandem/ledger.db for the
// main working tree; for a linked worktree (`git worktree add`), the main
// working tree's, found through the git common directory (<main>/.git); for
// a linked worktree whose common directory is not named .git (a bare
// repository, --separate-git-dir), <common dir>/tandem/ledger.db.
// kNotFound when `repo_root` has no .git.
Result<std::filesystem::path> LedgerPathFor(const std::filesystem::path& repo_root);

// The lines KeepStateOutOfGitStatus adds: everything under .tandem/ except
// the repository's configuration, which a team may want to commit.
inline constexpr char kExcludeLines[] =
    "# tandem's own state (ledger, caches); .tandem/config.toml stays visible\n"
    "/.tandem/*\n"
    "!/.tandem/config.toml\n";

// Appends kExcludeLines to <common dir>/info/exclude unless a line already
// ignores .tandem (`.tandem`, `.tandem/`, `/.tandem/`, `/.tandem/*`, ...).
// Idempotent; the user's lines are kept byte for byte (only appended to).
// Errors: kNotFound without .git, kIo when the file cannot be written.
Status KeepStateOutOfGitStatus(const std::filesystem::path& repo_root);

}  // namespace tandem::ledger
