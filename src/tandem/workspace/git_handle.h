// Internal to the workspace module: RAII owners for libgit2 objects, the
// libgit2 error adapter, and small oid/mode conversions.
#pragma once

#include <git2.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "tandem/base/status.h"
#include "tandem/workspace/file_change.h"

namespace tandem::workspace::internal {

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

using RepoPtr = GitPtr<git_repository, git_repository_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeEntryPtr = GitPtr<git_tree_entry, git_tree_entry_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using DiffPtr = GitPtr<git_diff, git_diff_free>;
using PatchPtr = GitPtr<git_patch, git_patch_free>;
using RefPtr = GitPtr<git_reference, git_reference_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using SignaturePtr = GitPtr<git_signature, git_signature_free>;

// Keeps libgit2 initialized while alive (git_libgit2_init is refcounted and
// thread-safe, so every Workspace holds one).
class LibGit2Session {
 public:
  LibGit2Session();
  ~LibGit2Session();
  LibGit2Session(const LibGit2Session&) = delete;
  LibGit2Session& operator=(const LibGit2Session&) = delete;
};

// The Status for a failed libgit2 call: `what` plus libgit2's last error.
// GIT_ENOTFOUND maps to kNotFound, everything else to kIo.
Status GitError(int code, std::string_view what);

#define TANDEM_GIT_CALL(expr, what)                                            \
  do {                                                                         \
    int _tandem_git_rc = (expr);                                               \
    if (_tandem_git_rc < 0) return ::tandem::workspace::internal::GitError(_tandem_git_rc, what); \
  } while (0)

// Like TRY, for functions returning Status: base's TRY returns an
// Unexpected, which Status cannot be built from.
#define TANDEM_WS_TRY(expr)                                                 \
  ({                                                                        \
    auto&& _tandem_ws_result = (expr);                                      \
    if (!_tandem_ws_result) return ::tandem::Status(_tandem_ws_result.error()); \
    std::move(*_tandem_ws_result);                                          \
  })

std::string OidHex(const git_oid& oid);

EntryMode ModeFromGit(git_filemode_t mode);
git_filemode_t GitModeFromStat(unsigned st_mode);  // GIT_FILEMODE_UNREADABLE if unsupported

// Looks up `path` in `tree`. Returns nullptr when absent (including when an
// ancestor is a file); errors only for real failures.
Result<TreeEntryPtr> FindEntry(git_tree* tree, const std::string& path);

Result<TreePtr> LookupTree(git_repository* repo, const git_oid& oid);

// Opens the repository whose working tree (or git directory) is exactly
// `path`, without searching parent directories. REQUIRES: a LibGit2Session
// outlives the result. kIo (kNotFound) with libgit2's message on failure.
Result<RepoPtr> OpenRepository(const std::filesystem::path& path);

}  // namespace tandem::workspace::internal
