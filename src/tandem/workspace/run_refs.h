// ForgetRun: deletes the private refs that keep a run's checkpoints alive
// (refs/tandem/runs/<id>/*, refs/tandem/ignored/<id>, refs/tandem/best/<id>),
// so `git gc` may prune what only they reached. `tandem gc` uses it for old
// fan-outs' variants (orchestrator/fanout.h).
//
// Cost: one ref iteration over refs/tandem/runs/<id>/ plus one deletion per
// ref. Thread-safety: opens its own repository handle.
#pragma once

#include <filesystem>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::workspace {

// `repo_root` is any worktree of the repository. Returns how many refs were
// deleted (0 when the run had none). kIo for libgit2 failures;
// InvalidArgument for an id with '/' or '*' or starting with '.'.
Result<int> ForgetRun(const std::filesystem::path& repo_root, std::string_view run_id);

}  // namespace tandem::workspace
