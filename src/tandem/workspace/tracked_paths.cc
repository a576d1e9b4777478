#include "tandem/workspace/tracked_paths.h"

#include <git2.h>

#include "tandem/workspace/git_handle.h"

namespace tandem::workspace {

using internal::GitError;
using internal::IndexPtr;
using internal::RepoPtr;

Result<std::vector<std::string>> TrackedPaths(const std::filesystem::path& repo_root,
                                              std::string_view prefix) {
  internal::LibGit2Session session;
  RepoPtr repo = TRY(internal::OpenRepository(repo_root));
  git_index* raw_index = nullptr;
  int rc = git_repository_index(&raw_index, repo.get());
  if (rc < 0) return GitError(rc, "reading the index of " + repo_root.string());
  IndexPtr index(raw_index);
  std::vector<std::string> paths;
  const std::string wanted(prefix);
  size_t at = 0;
  if (git_index_find_prefix(&at, index.get(), wanted.c_str()) != 0) return paths;
  // Entries are sorted by path, then stage: the matches are one run.
  for (const size_t n = git_index_entrycount(index.get()); at < n; ++at) {
    const git_index_entry* entry = git_index_get_byindex(index.get(), at);
    std::string_view path(entry->path);
    if (path.substr(0, wanted.size()) != wanted) break;
    if (paths.empty() || paths.back() != path) paths.emplace_back(path);
  }
  return paths;
}

}  // namespace tandem::workspace
