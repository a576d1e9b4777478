// Capture: the pieces of turning a verified run's trajectory into a skill
// (docs/SKILLS.md, "Capture"). The planner role distills the trajectory
// (orchestrator/skill_capture.h makes the call); these functions choose the
// attempt, write the planner's prompt, read its answer as a SKILL.md, set
// tandem's metadata, and write the skill's folder.
//
// Only a verified attempt is captured: one that ended succeeded after gates
// passed (a run without gates is unverified and refused). Every text the
// skill carries is redacted (Redactor) before it is written.
//
// Thread-safety: pure functions, except WriteSkillFolder (the file system).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/skills/skill.h"
#include "tandem/skills/trajectory.h"

namespace tandem::skills {

// The index of the attempt to capture: the last that ended succeeded with
// at least one gate passing in its last round. kFailedPrecondition saying
// why there is none (no attempt succeeded; it had no gates, so nothing
// verified it).
Result<size_t> VerifiedAttempt(const std::vector<Attempt>& attempts);

// The gates whose last verdict in `attempt` was pass, in the header's order.
std::vector<std::string> PassedGates(const Attempt& attempt);

// The paths its kept diffs changed ("diff --git a/X b/X"), first seen first.
std::vector<std::string> ChangedPaths(const Attempt& attempt);

// The planner's system prompt for a capture (constant).
const std::string& CaptureSystemPrompt();

// The planner's first message: the verified attempt `verified` of
// `attempts` step by step (replies, calls, results, gates, rollbacks,
// diffs; each cut to a few KB), and what the earlier attempts failed on.
// At most about 48 KB.
std::string CapturePrompt(const std::vector<Attempt>& attempts, size_t verified);

// The SKILL.md inside a planner's answer: the whole answer when it starts
// with "---"; the content of a fence around the whole file; else from the
// first line "---".
std::string ExtractSkillText(std::string_view answer);

// The skill in the planner's `answer`, with `name` (when not empty) as its
// name, and tandem's metadata set: tandem-source-run = `source` ("RUN" or
// "RUN/TASK"), tandem-gates (the passed gates) and tandem-paths (the changed
// paths). Every text is redacted. kInvalidArgument "line N: ..." when the
// answer is not a valid SKILL.md, or `name` breaks the naming rules.
Result<Skill> SkillFromAnswer(std::string_view answer, const Attempt& verified,
                              std::string_view source, std::string_view name);

// evals/evals.json (the Agent Skills layout): the captured task as case 1,
// with its summary as the expected output and its gates as expectations.
std::string EvalsJson(const Skill& skill, const Attempt& verified);

// Writes <repo_root>/<dir>/<skill.name>/SKILL.md and evals/evals.json,
// creating the folders. Every folder on the way must be a real directory
// (a link is refused: the repository's content could point it anywhere).
// Returns the SKILL.md's path relative to repo_root. Errors:
// kAlreadyExists when the skill's folder exists (nothing is written);
// kPermissionDenied for a link on the way; kIo.
Result<std::string> WriteSkillFolder(const std::filesystem::path& repo_root, std::string_view dir,
                                     const Skill& skill, std::string_view evals_json);

}  // namespace tandem::skills
