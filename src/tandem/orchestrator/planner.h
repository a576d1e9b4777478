// The planner role (the slow, smart tier): writes plan.md for a goal, and
// decides what to do with a task the executor failed (rewrite it, split it,
// or hand it to the slow tier).
//
// The planner answers in plain text (no tools): plan.md itself, or a verdict
// line followed by plan.md task blocks. tandem parses the answer with
// memory::ParsePlan; when it does not parse, the error goes back to the
// planner (up to `max_fixes` times) so it can correct itself.
//
// Thread-safety: one Planner per thread.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/ledger/ledger.h"
#include "tandem/memory/plan_md.h"
#include "tandem/orchestrator/policy.h"
#include "tandem/protocol/event.h"
#include "tandem/providers/model_client.h"
#include "tandem/verify/gate.h"

namespace tandem::orchestrator {

// A configured model ready to call: what a role resolved to.
struct ModelSlot {
  std::string name;  // key under [models]
  config::ModelConfig model;
  std::string provider;
  providers::ModelClient* client = nullptr;  // not owned
};

// What the planner's successful calls cost, corrections included.
struct PlannerSpend {
  protocol::Usage usage;
  double cost_usd = 0;
  double model_ms = 0;
};

struct PlannerEnv {
  ModelSlot model;
  protocol::EventSink* events = nullptr;  // REQUIRED
  ledger::Ledger* ledger = nullptr;       // optional: model calls are recorded
  std::string run_id;                     // the run the calls belong to
  PlannerSpend* spend = nullptr;          // optional: every call adds to it
  int max_fixes = 2;
};

struct PlanContext {
  std::string goal;
  std::string agents_md;
  std::vector<verify::Gate> gates;
  std::string repo_view;
};

struct PlanDraft {
  memory::Plan plan;
  std::string text;  // plan.md as tandem writes it (memory::RenderPlan)
  int fixes = 0;     // answers that had to be corrected
};

struct ReplanContext {
  std::string plan_text;     // plan.md now
  memory::PlanTask task;     // the failed task
  std::string failure;       // the executor's summary / failing gate
  std::string best_attempt;  // diff of its best attempt (may be empty)
  int escalations_so_far = 0;
};

struct Replan {
  EscalationAction action = EscalationAction::kSlowTier;
  std::vector<memory::PlanTask> tasks;  // kRewrite: one; kSplit: two or more
  std::string reason;
};

// A request to the planner's model: `system`, then `first_message` as the
// user's (no tools).
protocol::ModelRequest PlannerRequest(const PlannerEnv& env, const std::string& system,
                                      std::string first_message);

// One planner call: streamed to env.events, recorded in the ledger when
// env.run_id is set, added to env.spend. Returns the answer's text.
// Errors: kUnavailable with the provider's message.
Result<std::string> CallPlanner(const PlannerEnv& env, const protocol::ModelRequest& request,
                                const std::string& task_id);

// The planner's system prompts (constant, so provider caches hit).
const std::string& PlanSystemPrompt();
const std::string& ReplanSystemPrompt();

// Asks the planner for plan.md. Errors: the model call failed (kUnavailable
// with the provider's message), or the answer still did not parse after
// max_fixes corrections (kInvalidArgument with the last parse error).
Result<PlanDraft> DraftPlan(const PlannerEnv& env, const PlanContext& context);

// Asks the planner what to do with a failed task. Errors as DraftPlan.
Result<Replan> AskReplan(const PlannerEnv& env, const ReplanContext& context);

// Parses a re-plan answer (exposed for tests): the first non-blank line is
// REWRITE|SPLIT|ESCALATE (optionally ": reason"), then task blocks.
Result<Replan> ParseReplan(std::string_view answer, std::string_view failed_id);

// Every gate a task's `accept` names is defined in `gates` (verify.md);
// otherwise kInvalidArgument "line N: task T1 names gate 'x' in its
// acceptance, which verify.md does not define (it defines: a, b)", N being
// the task's `accept` line. Checked when plan.md is read, so a typo costs no
// model call and no re-plan.
Status CheckPlanGates(const memory::Plan& plan, const std::vector<verify::Gate>& gates);

// The plan.md text inside a model's answer: the first fenced block holding a
// task, else the whole answer.
std::string ExtractPlanText(std::string_view answer);

}  // namespace tandem::orchestrator
