#include "tandem/orchestrator/policy.h"

namespace tandem::orchestrator {

std::string_view TierName(Tier tier) { return tier == Tier::kExecutor ? "executor" : "slow"; }

Tier RouteTask(memory::Risk risk) {
  return risk == memory::Risk::kIrreversible ? Tier::kSlow : Tier::kExecutor;
}

bool NeedsApproval(memory::Risk risk) { return risk == memory::Risk::kIrreversible; }

std::optional<config::Role> ParseSlowRole(std::string_view name) {
  if (name == "planner") return config::Role::kPlanner;
  if (name == "reviewer") return config::Role::kReviewer;
  return std::nullopt;
}

}  // namespace tandem::orchestrator
