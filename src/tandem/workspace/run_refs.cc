#include "tandem/workspace/run_refs.h"

#include <string>
#include <vector>

#include "tandem/workspace/git_handle.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {

Result<int> ForgetRun(const std::filesystem::path& repo_root, std::string_view run_id) {
  if (run_id.empty() || run_id.front() == '.' ||
      run_id.find_first_of("/*?[\\ ") != std::string_view::npos) {
    return InvalidArgument("not a run id: '" + std::string(run_id) + "'");
  }
  internal::LibGit2Session session;
  internal::RepoPtr repo = TRY(internal::OpenRepository(repo_root));
  std::vector<std::string> names;
  std::string glob = Workspace::RunRefPrefix(run_id) + "*";
  auto collect = [](const char* name, void* payload) -> int {
    static_cast<std::vector<std::string>*>(payload)->push_back(name);
    return 0;
  };
  int rc = git_reference_foreach_glob(repo.get(), glob.c_str(), collect, &names);
  if (rc < 0) return internal::GitError(rc, "listing " + glob);
  names.push_back(Workspace::IgnoredRef(run_id));
  names.push_back(Workspace::BestAttemptRef(run_id));
  int deleted = 0;
  for (const std::string& name : names) {
    rc = git_reference_remove(repo.get(), name.c_str());
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      continue;
    }
    if (rc < 0) return internal::GitError(rc, "deleting " + name);
    ++deleted;
  }
  return deleted;
}

}  // namespace tandem::workspace
