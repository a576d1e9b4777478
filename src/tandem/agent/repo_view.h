// A compact view of the repository for the executor's first message: how
// many files, the top-level layout, and a bounded sample of paths. It must
// stay small whatever the repository's size (every token costs prefill).
#pragma once

#include <string>

namespace tandem::agent {

// Lists files with `git ls-files` (tracked + untracked, not ignored). At most
// `max_paths` paths are shown; directories beyond that are summarized with
// their file counts.
std::string BuildRepoView(const std::string& repo_root, size_t max_paths = 40);

}  // namespace tandem::agent
