// The planner role distills a verified run into a skill (docs/SKILLS.md,
// "Capture"): skills::CapturePrompt describes the verified attempt, the
// planner answers with a SKILL.md, and skills::SkillFromAnswer reads it and
// sets tandem's metadata. An answer that is not a valid SKILL.md goes back
// to the planner with the error (up to env.max_fixes times), as a plan does.
//
// Thread-safety: one call per thread (as the planner).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/skills/skill.h"
#include "tandem/skills/trajectory.h"

namespace tandem::orchestrator {

struct DistilledSkill {
  skills::Skill skill;
  std::string evals_json;  // evals/evals.json (skills::EvalsJson)
  int fixes = 0;           // answers that had to be corrected
};

// Distills attempt `verified` of `attempts` (skills::VerifiedAttempt),
// the trajectory of `source` ("RUN" or "RUN/TASK"); `name` (may be empty)
// replaces the planner's. Errors: the model call's (kUnavailable); the
// answer still not a valid SKILL.md after the fixes (kInvalidArgument with
// the last problem).
Result<DistilledSkill> DistillSkill(const PlannerEnv& env,
                                    const std::vector<skills::Attempt>& attempts, size_t verified,
                                    std::string_view source, std::string_view name);

}  // namespace tandem::orchestrator
