// Routing by risk: which tier executes a plan task, and who decides whether
// an irreversible task may run. Named values, not booleans; the names double
// as configuration and command-line values.
//
//   risk (plan.md)   tier                       before it runs
//   reversible       executor (roles.executor)  nothing
//   irreversible     slow (roles.reviewer, or   approval: `approval.policy`
//                    --slow-role planner)        ask | approve | deny
//
// An approved irreversible task runs with the command classifier's refusals
// lifted (command_policy allow-all): the person approved exactly what it does.
// In a reversible task, a command the classifier marks irreversible goes to
// the slow tier (RUN or REFUSE), then to the same approval before it runs.
// A task that fails after its retry budget is escalated to the planner
// (rewrite, split, or a rerun on the slow tier), at most
// `max_escalations` times per task. Plain data; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "tandem/config/config.h"
#include "tandem/memory/plan_md.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::orchestrator {

enum class Tier { kExecutor, kSlow };
std::string_view TierName(Tier tier);  // "executor", "slow"

// What the planner may answer for a failed task (shared vocabulary).
using protocol::EscalationAction;

struct RunPolicy {
  // Who decides on irreversible tasks: a person at the terminal (ask), or
  // the policy itself, for CI (approve, deny).
  config::ApprovalPolicy approval = config::ApprovalPolicy::kAsk;
  // The role that executes irreversible and escalated tasks.
  config::Role slow_role = config::Role::kReviewer;
  // Escalations per task (a split task's parts inherit its count).
  int max_escalations = 2;
  // Bytes of progress.md given to a task's executor.
  size_t progress_budget = 4000;
};

// Reversible -> executor, irreversible -> slow.
Tier RouteTask(memory::Risk risk);
// Irreversible tasks wait for approval before they run.
bool NeedsApproval(memory::Risk risk);

// "planner" | "reviewer" -> the slow tier's role; nullopt otherwise.
std::optional<config::Role> ParseSlowRole(std::string_view name);

}  // namespace tandem::orchestrator
