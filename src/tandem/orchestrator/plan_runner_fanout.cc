// A plan task with `variants: N` (part of PlanRunner, plan_runner_internal.h;
// docs/FANOUT.md "Fan-out tasks in plan.md"): its agent is a fan-out
// (fanout.h), N variants of the task from the integrated checkpoint it
// starts from, each in a worktree of its own through the verified loop with
// the task's spec and environment (scope, gates and checks, caps, retry
// budget, review, irreversible commands to the slow tier and the approval
// policy). The fan-out is a ledger run of its own, `<run>.<task>.<attempt>`
// (kind "fanout"), so `tandem variants` lists the variants and `tandem pick`
// applies another one later. Its outcome is the task's:
//   - a variant passed: the top-ranked passing variant (the score, then
//     the reviewer's tournament when a reviewer is configured) is the
//     task's result, merged into the checkout and gated there like any
//     worktree task's (plan_runner_merge.cc);
//   - none passed (or the fan-out's budget ran out first): the task failed,
//     and the queue's failure hook escalates it as any failed task;
//   - interrupted (Ctrl-C, or the task cancelled): interrupted, whatever
//     passed meanwhile; the variants stay listed and pickable.
// Budgets: the task's limits (max_cost_usd, max_wall_s) are one budget for
// all its variants together, as for `tandem do --variants`; the fan-out
// takes one of the queue's parallel_tasks slots; its variants run
// min(N, 8) at once, their gates and commands holding the process's job
// tokens like every agent's.
//
// Thread-safety: RunFanoutAgent runs on the task's agent thread; it touches
// its Agent, the thread-safe ledger, FanoutLedger and event sink, and
// DecideCommand (which any agent thread may call).
// Errors: the fan-out's own (git, ledger); a variant's failure is a row.
#include <fmt/format.h>

#include "tandem/base/strings.h"
#include "tandem/orchestrator/fanout.h"
#include "tandem/orchestrator/plan_runner_internal.h"

namespace tandem::orchestrator {
namespace {


// The task's result from its fan-out's (see the file comment).
agent::TaskResult FanoutOutcome(const std::string& fanout_id, int n, const FanoutResult& fanout) {
  agent::TaskResult out;
  out.totals = fanout.totals;
  out.wall_ms = fanout.wall_ms;
  const ledger::VariantRow* top = nullptr;
  int passed = 0;
  for (const ledger::VariantRow& v : fanout.variants) {
    if (v.state != ledger::VariantState::kPassed) continue;
    ++passed;
    if (!top && !v.duplicate_of) top = &v;
  }
  std::string listed = fmt::format("`tandem variants {}` lists them", fanout_id);
  if (fanout.stop == FanoutStop::kInterrupt) {
    out.outcome = agent::TaskOutcome::kInterrupted;
    out.summary = fmt::format("fan-out interrupted ({} of {} variants had passed); {}", passed, n,
                              listed);
    return out;
  }
  if (fanout.outcome == protocol::Outcome::kSucceeded && top != nullptr) {
    out.outcome = agent::TaskOutcome::kSucceeded;
    out.final_checkpoint = top->final_checkpoint;
    out.summary = fmt::format(
        "variant {} of {} ranked first ({} passed{}): {}; {}, `tandem pick {}/N` applies "
        "another",
        top->n, n, passed, top->score ? fmt::format(", score {:.1f}", *top->score) : "",
        top->reasons, listed, fanout_id);
    return out;
  }
  out.outcome = fanout.outcome == protocol::Outcome::kLimit ? agent::TaskOutcome::kLimit
                                                            : agent::TaskOutcome::kFailed;
  out.summary = fmt::format("none of the {} variants passed ({})", n, listed);
  int shown = 0;
  for (const ledger::VariantRow& v : fanout.variants) {
    if (shown++ == 5) break;
    out.summary += fmt::format("\n- v{}: {}: {}", v.n, ledger::ToString(v.state),
                               FirstLine(v.detail));
  }
  return out;
}

}  // namespace

Result<agent::TaskResult> PlanRunner::RunFanoutAgent(Agent& a) {
  FanoutSpec spec;
  spec.run_id = fmt::format("{}.{}.{}", run_id_, a.task.id, a.attempt);
  spec.task = a.spec.task;
  spec.scope = a.spec.scope;
  spec.variants = a.task.variants;
  spec.extra_context = a.spec.extra_context;
  spec.parent = FanoutParent{run_id_, a.task.id, a.base};

  FanoutEnv env;
  env.repo_root = env_.repo_root;
  env.config = a.env.config;
  env.models = {Slot(a.tier)};
  env.events = env_.events;
  env.ledger = env_.ledger;
  env.variants = fanout_ledger_.get();
  env.gates = a.env.gates;
  env.gates_source = a.env.gates_source;
  env.interrupts = a.stop.get();  // Ctrl-C, or this task cancelled
  env.job_budget = env_.job_budget;
  env.task_env = &a.env;
  env.reviewer = env_.reviewer;  // the tournament's judge, as for `tandem do --variants`
  PlanTask task = a.task;
  env.irreversible_commands = [this, task](workspace::Workspace& ws) -> tools::IrreversibleCommandHook {
    return [this, task, &ws](const std::string& command, const std::string& why) {
      return DecideCommand(task, command, why, ws);
    };
  };
  FanoutResult fanout = TRY(RunFanout(spec, env));
  return FanoutOutcome(spec.run_id, spec.variants, fanout);
}

}  // namespace tandem::orchestrator
