// AGENTS.md loading, per the agents.md convention (PROTOCOLS.md §6.1): the
// root file plus nested files on the way to the paths in play; deeper files
// come later (they take precedence); empty files are skipped; the total is
// capped so a huge file cannot flood the prompt.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::memory {

struct AgentsDoc {
  std::string text;                 // concatenated, each part headed by its path
  std::vector<std::string> files;   // repo-relative paths used, root first
  bool truncated = false;
  // Files not read, each with why: a link leading out of the repository (or
  // into .git), a FIFO, a device (platform::ReadFileWithin). Callers say so.
  std::vector<std::string> refused;
};

// Collects AGENTS.md files from `root` down to the directories of `paths`
// (repo-relative). AGENTS.override.md in a directory wins over AGENTS.md.
// Missing files are not an error; unreadable ones are. Only files inside the
// repository are read: the text goes to the model from tandem's own process,
// outside the sandbox, so `AGENTS.md -> ~/.ssh/id_rsa` (committed, or made by
// a model's command) must not carry the key there; such a file is `refused`.
Result<AgentsDoc> LoadAgentsDoc(const std::string& root, const std::vector<std::string>& paths,
                                size_t max_bytes = 32 * 1024);

}  // namespace tandem::memory
