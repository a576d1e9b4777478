// The body of `tandem do`, shared with `tandem demo`: one task in one
// repository with the executor role, rendered live or as JSONL.
#pragma once

#include <string>
#include <vector>

namespace tandem::cli {

struct DoOptions {
  std::string task;
  std::string repo_root;  // the working tree (Invocation::repo_root); empty: not in a repository
  std::string model;      // a model name; empty: the executor role
  std::vector<std::string> overrides;
  std::vector<std::string> scope;
  std::string config_file;  // an extra configuration file (tandem demo's own); see RuntimeOptions
  bool json = false;
  std::string kind = "do";
};

// Returns the process exit code (docs/EVENTS.md).
int RunDo(const DoOptions& options);

}  // namespace tandem::cli
