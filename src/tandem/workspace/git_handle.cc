#include "tandem/workspace/git_handle.h"

#include <sys/stat.h>

namespace tandem::workspace::internal {

LibGit2Session::LibGit2Session() { git_libgit2_init(); }
LibGit2Session::~LibGit2Session() { git_libgit2_shutdown(); }

Status GitError(int code, std::string_view what) {
  std::string message(what);
  const git_error* e = git_error_last();
  if (e != nullptr && e->message != nullptr) {
    message += ": ";
    message += e->message;
  }
  if (code == GIT_ENOTFOUND) return NotFound(std::move(message));
  return IoError(std::move(message));
}

std::string OidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &oid);
  return buf;
}

EntryMode ModeFromGit(git_filemode_t mode) {
  switch (mode) {
    case GIT_FILEMODE_BLOB: return EntryMode::kRegular;
    case GIT_FILEMODE_BLOB_EXECUTABLE: return EntryMode::kExecutable;
    case GIT_FILEMODE_LINK: return EntryMode::kSymlink;
    case GIT_FILEMODE_COMMIT: return EntryMode::kSubmodule;
    default: return EntryMode::kAbsent;
  }
}

git_filemode_t GitModeFromStat(unsigned st_mode) {
  if (S_ISLNK(st_mode)) return GIT_FILEMODE_LINK;
  if (S_ISREG(st_mode)) return (st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
  if (S_ISDIR(st_mode)) return GIT_FILEMODE_TREE;
  return GIT_FILEMODE_UNREADABLE;
}

Result<TreeEntryPtr> FindEntry(git_tree* tree, const std::string& path) {
  git_tree_entry* entry = nullptr;
  int rc = git_tree_entry_bypath(&entry, tree, path.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return TreeEntryPtr();
  }
  if (rc < 0) return GitError(rc, "looking up " + path);
  return TreeEntryPtr(entry);
}

Result<TreePtr> LookupTree(git_repository* repo, const git_oid& oid) {
  git_tree* tree = nullptr;
  TANDEM_GIT_CALL(git_tree_lookup(&tree, repo, &oid), "reading tree " + OidHex(oid));
  return TreePtr(tree);
}

Result<RepoPtr> OpenRepository(const std::filesystem::path& path) {
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc < 0) return GitError(rc, "opening " + path.string());
  return RepoPtr(raw);
}

}  // namespace tandem::workspace::internal
