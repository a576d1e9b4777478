// A skill's health from its replay counts (ledger::SkillCounts): flagged
// when, since it was last restored, it has replayed at least `min_replays`
// times and more than `failure_share` of those replays failed. A flagged
// skill is no longer injected by the ranking (a forced one still is) until
// a person runs `tandem skills restore NAME` or its eval passes.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/ledger/records.h"

namespace tandem::skills {

struct FlagRule {
  double failure_share = 0.5;  // skills.flag_failure_share
  int64_t min_replays = 3;     // skills.flag_min_replays
};

bool IsFlagged(const ledger::SkillCounts& counts, const FlagRule& rule);

// The names of the flagged skills among `counts`.
std::vector<std::string> FlaggedSkills(const std::vector<ledger::SkillCounts>& counts,
                                       const FlagRule& rule);

}  // namespace tandem::skills
