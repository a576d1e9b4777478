// Lists the workspace's files the way git sees them: tracked plus untracked
// files that .gitignore does not exclude (`git ls-files --cached --others
// --exclude-standard`). Outside a git repository it walks the directory,
// skipping .git and .tandem. Used by list_files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::tools {

// Workspace-relative paths below `rel_dir` ("." for all), sorted. Tracked
// files deleted from the working tree may be included; callers stat what they
// show. Errors: kIo when git fails for a reason other than "not a repository".
Result<std::vector<std::string>> ListWorkspaceFiles(const std::filesystem::path& root,
                                                    const std::string& rel_dir);

// The `git` argv prefix tandem uses for read-only queries in `root`.
std::vector<std::string> GitArgv(const std::filesystem::path& root);

}  // namespace tandem::tools
