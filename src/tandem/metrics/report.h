// The figures `tandem stats` reports. Every ratio is std::optional: empty
// (JSON null, "–" in text) when its denominator is zero, never NaN.
// Each field's formula in ledger columns is in docs/METRICS.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tandem/metrics/window.h"

namespace tandem::metrics {

using Ratio = std::optional<double>;

// Run kinds that pursue a verified outcome; the completion, retry and
// human-time figures count only these. Other kinds (plan, undo, ...) still
// count towards spend, tokens and wall time.
inline constexpr const char* kOutcomeKinds[] = {"do", "run", "demo"};
bool IsOutcomeKind(const std::string& kind);

struct Distribution {
  int64_t samples = 0;
  Ratio median;  // nearest-rank p50
  Ratio p90;     // nearest-rank p90
};

// Outcome runs (kinds above).
struct RunFigures {
  int64_t total_all_kinds = 0;  // every run in the window
  int64_t total = 0;            // outcome runs
  int64_t running = 0;
  int64_t finished = 0;  // outcome != running
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t interrupted = 0;
  int64_t cancelled = 0;
  int64_t assisted = 0;    // a person decided an approval or added a steer note
  int64_t unassisted = 0;  // succeeded and not assisted
  Ratio success_rate;      // succeeded / finished
  Ratio unassisted_rate;   // unassisted / finished
};

// Task units of outcome runs: tasks rows, or the run itself when it has none.
struct TaskFigures {
  int64_t total = 0;
  int64_t finished = 0;  // done + failed + skipped
  int64_t done = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
  int64_t unassisted = 0;  // done and not assisted
  Ratio success_rate;      // done / finished
  Ratio unassisted_rate;   // unassisted / finished
  int64_t attempted = 0;   // units with at least one step
  int64_t retries = 0;     // tries after a rollback, plus tasks.attempts - 1
  Ratio retries_per_task;  // retries / attempted
  int64_t rollbacks = 0;
  Ratio rollbacks_per_task;  // rollbacks / attempted
  int64_t escalations = 0;
};

struct HumanFigures {
  int64_t person_decisions = 0;  // approvals decided_by = person
  int64_t person_denials = 0;
  int64_t policy_decisions = 0;
  int64_t approval_wait_ms = 0;  // sum of waited_ms decided by a person
  double minutes = 0;            // approval_wait_ms / 60000
  Ratio minutes_per_run;         // minutes / outcome runs
  int64_t steer_notes = 0;       // counted, not timed
  Ratio steer_notes_per_run;
};

struct CostFigures {
  double spend_usd = 0;  // every model call in the window, failures included
  int64_t successes = 0;
  Ratio per_success_usd;  // spend / successes
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  int64_t tokens = 0;  // tokens_in + tokens_out
  Ratio per_token_usd;
  Ratio per_mtok_usd;  // per 1,000,000 tokens
};

// Reviews before done (the reviews table) in outcome runs.
struct ReviewFigures {
  int64_t reviews = 0;
  int64_t tasks_reviewed = 0;  // distinct (run, task)
  Ratio reviews_per_task;      // reviews / tasks_reviewed
  int64_t rejected = 0;        // verdict request_changes
  Ratio rejected_share;        // rejected / reviews
  int64_t tasks_rejected = 0;  // tasks with at least one request_changes
  int64_t tasks_fixed = 0;     // of those, approved by a later review
  Ratio fixed_rate;            // tasks_fixed / tasks_rejected
  int64_t errors = 0;          // no verdict
  double cost_usd = 0;         // the reviews' model spend
  Ratio per_success_usd;       // cost_usd / succeeded outcome runs
};

// Over ended runs of every kind.
struct TimeFigures {
  int64_t runs = 0;
  int64_t wall_ms = 0;
  int64_t model_ms = 0;
  int64_t tool_ms = 0;
  int64_t gate_ms = 0;
  int64_t person_ms = 0;
  int64_t tandem_ms = 0;  // max(0, wall - model - tools - gates - person)
  int64_t gate_cache_hits = 0;
  Ratio model_share, tool_share, gate_share, person_share, tandem_share;  // of wall_ms
};

// Model calls grouped by model (provider + model) or by role.
struct CallGroup {
  std::string provider;  // models only
  std::string name;      // the model, or the role
  int64_t calls = 0;
  int64_t errors = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  double spend_usd = 0;
  Ratio spend_share;  // of the window's spend
  Ratio per_mtok_usd;
  int64_t model_ms = 0;
  // Outcome runs with at least one call in this group.
  int64_t runs = 0;
  int64_t runs_finished = 0;
  int64_t runs_succeeded = 0;
  int64_t runs_unassisted = 0;
  Ratio success_rate;
  Ratio unassisted_rate;
  Ratio per_success_usd;       // spend_usd / runs_succeeded
  Distribution ttft_ms;        // successful calls with ttft_ms > 0
  // Streaming speed (base/token_rate.h) of successful calls long enough to
  // measure: per call, and their tokens after the first over their spans.
  Distribution tokens_per_s;
  Ratio tokens_per_s_overall;
};

struct TierGroup {
  std::string tier;
  TaskFigures tasks;         // the units routed to this tier
  int64_t escalated_to = 0;  // escalations.to_tier (from_tier is tasks.escalations)
  int64_t calls = 0;
  double spend_usd = 0;     // model_calls.tier
  Ratio per_done_task_usd;  // spend / tasks.done
  // Succeeded outcome runs with a call in this tier, and per such success:
  // the tier's spend, and the runs' wall minutes (did paying for a fast
  // mode tier pay off?).
  int64_t runs_succeeded = 0;
  Ratio per_success_usd;
  Ratio minutes_per_success;
};

// Fan-out runs (`tandem do --variants N`) and the picks made among them.
struct FanoutFigures {
  int64_t fanouts = 0;
  int64_t variants = 0;
  Ratio variants_per_fanout;
  int64_t finished = 0;  // variants not running
  int64_t passed = 0;
  Ratio pass_rate;       // passed / finished
  double spend_usd = 0;  // Σ variants.cost_usd
  int64_t picks = 0;     // applied picks
  int64_t refused = 0;   // picks the gates refused
  Ratio per_pick_usd;    // spend / picks
  int64_t top_picks = 0; // applied picks of the rank-1 variant
  Ratio top_pick_rate;   // top_picks / picks: the ranker's agreement with the person
  double pick_minutes = 0;  // Σ picks.waited_ms / 60000 (applied and refused)
};

// One arm of a skill's A/B (docs/METRICS.md "Skills"): the ended tasks
// that saw the skill (with), or ran with no skill as its comparison (without).
struct SkillArmFigures {
  int64_t tasks = 0;
  int64_t succeeded = 0;
  Ratio success_rate;
  Ratio steps_per_task;
  Ratio tokens_per_task;
  Ratio cost_per_success_usd;
  Ratio wall_ms_per_task;
};

struct SkillFigures {
  std::string skill;  // "(all skills)" for the overall row
  SkillArmFigures with;
  SkillArmFigures without;
  // (mean wall time per task without - with) x tasks with, when both arms
  // have tasks; negative when the skill costs time.
  Ratio time_saved_ms;
};

struct Report {
  Window window;
  bool empty = true;  // no runs in the window: "no runs yet"
  RunFigures runs;
  TaskFigures tasks;
  HumanFigures human;
  CostFigures cost;
  ReviewFigures reviews;
  TimeFigures time;
  std::vector<CallGroup> models;  // by provider, model
  std::vector<CallGroup> roles;   // by role
  std::vector<TierGroup> tiers;   // by tier
  FanoutFigures fanout;
  // Skills' A/B over the whole ledger (not windowed): one row per skill,
  // then the overall row; empty when no task saw a skill.
  std::vector<SkillFigures> skills;
};

}  // namespace tandem::metrics
