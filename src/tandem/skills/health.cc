#include "tandem/skills/health.h"

namespace tandem::skills {

bool IsFlagged(const ledger::SkillCounts& c, const FlagRule& rule) {
  if (c.recent_replays < rule.min_replays || c.recent_replays == 0) return false;
  return static_cast<double>(c.recent_failures) / static_cast<double>(c.recent_replays) >
         rule.failure_share;
}

std::vector<std::string> FlaggedSkills(const std::vector<ledger::SkillCounts>& counts,
                                       const FlagRule& rule) {
  std::vector<std::string> out;
  for (const auto& c : counts) {
    if (IsFlagged(c, rule)) out.push_back(c.skill);
  }
  return out;
}

}  // namespace tandem::skills
