// `tandem init`: writes the memory files a repository needs, at its root:
// AGENTS.md (a short template), verify.md (the detected gates), plan.md and
// progress.md (empty). A file that exists is never overwritten, even one
// created concurrently (platform::WriteOptions::Mode::kCreateOnly).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/verify/detect.h"

namespace tandem::memory {

inline constexpr std::string_view kAgentsFileName = "AGENTS.md";

struct InitFile {
  std::string name;  // "AGENTS.md", relative to the root
  bool written = false;  // false: it already existed and was left alone
};

struct InitReport {
  std::vector<InitFile> files;         // AGENTS.md, verify.md, plan.md, progress.md
  std::vector<std::string> next_steps;  // what the person should edit or run next
};

// Writes the missing memory files under `root` (which must exist).
// `detection` (verify::DetectGates(root)) fills verify.md. Errors: kIo; files
// written before the error stay written.
Result<InitReport> InitRepository(const std::filesystem::path& root,
                                  const verify::Detection& detection);

// The AGENTS.md template InitRepository writes.
std::string AgentsTemplate();

}  // namespace tandem::memory
