// Discovery of skills: every <name>/SKILL.md under the repository's
// `.agents/skills/` (or the folder skills.dir names) and `.claude/skills/`,
// and the user's `~/.agents/skills/`. A malformed SKILL.md is reported with
// its file and line and skipped; it never stops a run. When two places hold
// a skill of the same name, the first in that order wins.
//
// Files are read with platform::ReadFileWithin: a SKILL.md that is a link
// out of its root (the repository, or the user's home) is refused, so a
// repository cannot make tandem send `~/.ssh/id_rsa` as a skill. Nothing
// reads the process's working directory: both roots are handed in.
//
// Cost: one directory listing per root and one read per skill (about 20 us
// a skill, docs/PERFORMANCE.md). Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/skills/skill.h"

namespace tandem::skills {

enum class SkillOrigin {
  kRepo,    // the repository's skills folder (.agents/skills/ by default)
  kClaude,  // the repository's .claude/skills/
  kUser,    // ~/.agents/skills/
};
std::string_view SkillOriginName(SkillOrigin origin);  // "repo", "claude", "user"

struct FoundSkill {
  Skill skill;
  SkillOrigin origin = SkillOrigin::kRepo;
  std::string dir;   // absolute path of the skill's folder
  std::string shown; // for people and the model: ".agents/skills/x/SKILL.md", "~/.agents/skills/x/SKILL.md"
  // Captured by tandem from a verified run (metadata tandem-source-run set);
  // a skill a person wrote is unverified until one of its replays passes.
  bool captured() const { return !skill.Meta("tandem-source-run").empty(); }
};

struct SkillRoots {
  std::string repo_root;                  // the repository; empty: none
  std::string repo_dir = ".agents/skills";  // relative to repo_root (skills.dir)
  std::string home;                       // the user's home from the runtime's environment; empty: none
};

struct Catalog {
  std::vector<FoundSkill> skills;     // in discovery order, names unique
  std::vector<std::string> problems;  // "path:line: what is wrong" per skipped file

  // The skill named `name`, or null.
  const FoundSkill* Find(std::string_view name) const;
};

// Finds and parses every skill under `roots` (see above). Never fails: a
// folder that cannot be read is a problem line, like a malformed file.
Catalog DiscoverSkills(const SkillRoots& roots);

}  // namespace tandem::skills
