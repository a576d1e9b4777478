// `tandem run --commit`: one git commit on the user's current branch per
// task that is done and reviewed, with the reviewer's message. It runs the
// git binary (`git add`, `git commit`) in the repository, so the
// repository's hooks run as for any commit of the user's; a hook that
// refuses the commit comes back as the reason (the loop treats it as a
// failed gate). Only the task's changed paths are staged and committed
// (`git commit -- <paths>`): whatever else the user has staged stays
// staged and out of the commit.
//
// Thread-safety: plain functions; one commit at a time per repository (the
// caller's: tandem run commits only in sequential runs).
#pragma once

#include <string>
#include <vector>

#include "tandem/agent/review.h"
#include "tandem/base/status.h"

namespace tandem::orchestrator {

struct CommitSettings {
  std::string repo_root;
  std::string author;   // "Name <email>"; empty: git's own identity
  std::string task_id;  // for a message the reviewer left without a subject
};

// The commit message: the reviewer's subject (or "tandem: task <id>") and body.
std::string CommitMessage(const CommitSettings& settings, const agent::ReviewResult& review);

// Stages and commits `paths`. Never fails: a refusal is committed = false
// with git's (and the hooks') output.
agent::CommitOutcome CommitTaskChange(const CommitSettings& settings,
                                      const agent::ReviewResult& review,
                                      const std::vector<std::string>& paths);

// Before a run with --commit: git can make a commit here (an identity, a
// branch that is not detached). FailedPrecondition saying what is missing.
Status CheckCanCommit(const std::string& repo_root, const std::string& author);

}  // namespace tandem::orchestrator
