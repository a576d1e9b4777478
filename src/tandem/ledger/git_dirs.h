// Where tandem's per-repository state meets git: the common git directory,
// shared by every worktree of a repository, which holds that state (the
// ledger, the writer lock, tandem's worktrees) out of reach of the
// repository's content.
//
// Thread-safety: thread-safe (reads only).
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
// by all its worktrees: <common git directory>/tandem/ledger.db. It lives in
// the git directory because no commit can write there: a repository may hold
// `.tandem/ledger.db`, never `.git/...` (git refuses such paths), so a cloned
// repository cannot plant gate verdicts or runs (docs/LEDGER.md).
// kNotFound when `repo_root` has no .git.
Result<std::filesystem::path> LedgerPathFor(const std::filesystem::path& repo_root);

// Where tandem kept that ledger before it moved into the git directory:
// <main working tree>/.tandem/ledger.db (`repo_root`'s own for a main working
// tree, the main working tree's for a linked worktree whose common directory
// is <main>/.git). kNotFound for a layout whose ledger was already in the git
// directory (a linked worktree of a bare repository), and without .git.
Result<std::filesystem::path> LegacyLedgerPathFor(const std::filesystem::path& repo_root);

// The bytes of a small file (git's `.git` pointer, `commondir`, a lock's
// holder record); empty when it cannot be read. Callers treat empty as absent.
std::string ReadSmallFile(const std::filesystem::path& path);

}  // namespace tandem::ledger
