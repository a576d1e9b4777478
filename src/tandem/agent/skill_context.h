// The skills an executor's first request carries (docs/SKILLS.md): found in
// the repository's .agents/skills/ and .claude/skills/ and ~/.agents/skills/
// (config::Skills::home), ranked by BM25 against the task's words and scope,
// the best few within skills.token_budget; `tandem do --skill` forces one.
// Flagged skills (skills/health.h, from the ledger's counts) are left out of
// the ranking.
//
// Cost: the catalog and its index come from skills::ProcessCatalogCache():
// read and built once per process while the skills folders do not change
// (once per checkpoint for the worktrees of a fan-out,
// TaskEnv::skills_checkpoint), so a task pays the cache's check (one read
// of an inotify queue and a few stats; a stat per skill when watches are
// unavailable) plus the ranking (tens of microseconds for 1,000 skills);
// the first task, or one after a change, also reads every SKILL.md (tens of
// microseconds each). Once per task, before its first model call.
// Errors: NotFound for a forced skill that does not exist; a malformed
// SKILL.md is a notice, never an error.
#pragma once

#include <string>
#include <vector>

#include "tandem/agent/task_runner.h"
#include "tandem/ledger/records.h"

namespace tandem::agent {

struct SkillContext {
  std::string text;                     // the <skills> block; empty when none
  std::vector<ledger::SkillUse> uses;   // what to record for the task
  std::vector<std::string> notices;     // malformed skills, what was picked
};

// NotFound naming the first of `names` that no skill of the repository at
// `repo_root` (or the user's, config.skills.home) has, and the ones found:
// `tandem do --skill` checks before a run starts.
Status CheckSkillsExist(const std::string& repo_root, const config::Config& config,
                        const std::vector<std::string>& names);

Result<SkillContext> PickSkills(const TaskSpec& spec, const TaskEnv& env,
                                const std::vector<std::string>& scope_paths);

}  // namespace tandem::agent
