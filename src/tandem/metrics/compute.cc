#include "tandem/metrics/compute.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "tandem/base/token_rate.h"
#include "tandem/metrics/percentile.h"

namespace tandem::metrics {
namespace {

Ratio Div(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

using TaskKey = std::pair<std::string, std::string>;  // (run_id, task_id)

struct RunInfo {
  const RunFact* run = nullptr;
  bool outcome_kind = false;
  bool assisted = false;
  std::optional<std::string> first_call_tier;
};

// A task unit: a tasks row of an outcome run, or the run itself when the run
// has no tasks rows (task_id "").
struct Unit {
  std::string run_id;
  std::string tier;
  std::string state;
  bool assisted = false;
  int64_t steps = 0;
  int64_t retries = 0;
  int64_t rollbacks = 0;
};

std::string ImplicitState(const std::string& outcome) {
  if (outcome == "succeeded") return "done";
  if (outcome == "running") return "running";
  return "failed";  // failed, interrupted, cancelled
}

TaskFigures Summarize(const std::vector<const Unit*>& units, int64_t escalations) {
  TaskFigures t;
  for (const Unit* u : units) {
    t.total++;
    if (u->state == "done") {
      t.done++;
      if (!u->assisted) t.unassisted++;
    } else if (u->state == "failed") {
      t.failed++;
    } else if (u->state == "skipped") {
      t.skipped++;
    }
    if (u->steps > 0) t.attempted++;
    t.retries += u->retries;
    t.rollbacks += u->rollbacks;
  }
  t.finished = t.done + t.failed + t.skipped;
  t.success_rate = Div(t.done, t.finished);
  t.unassisted_rate = Div(t.unassisted, t.finished);
  t.retries_per_task = Div(t.retries, t.attempted);
  t.rollbacks_per_task = Div(t.rollbacks, t.attempted);
  t.escalations = escalations;
  return t;
}

// Accumulates one CallGroup from its calls.
struct CallAccumulator {
  CallGroup group;
  std::set<std::string> run_ids;
  std::vector<double> ttfts;
  std::vector<double> speeds;
  StreamSpan streamed;  // summed over the calls that have a speed

  void Add(const ModelCallFact& c) {
    group.calls++;
    if (c.error) group.errors++;
    group.tokens_in += c.tokens_in;
    group.tokens_out += c.tokens_out;
    group.tokens_cached += c.tokens_cached;
    group.spend_usd += c.cost_usd;
    group.model_ms += c.duration_ms;
    run_ids.insert(c.run_id);
    if (c.error) return;
    if (c.ttft_ms > 0) ttfts.push_back(static_cast<double>(c.ttft_ms));
    auto span = MeasurableSpan(c.tokens_out, static_cast<double>(c.ttft_ms),
                               static_cast<double>(c.duration_ms));
    if (!span) return;
    speeds.push_back(TokensPerSecond(*span));
    streamed.tokens += span->tokens;
    streamed.ms += span->ms;
  }

  CallGroup Finish(const std::map<std::string, RunInfo>& runs, double total_spend) {
    CallGroup& g = group;
    g.spend_share = Div(g.spend_usd, total_spend);
    g.per_mtok_usd = Div(g.spend_usd * 1e6, static_cast<double>(g.tokens_in + g.tokens_out));
    for (const std::string& id : run_ids) {
      auto it = runs.find(id);
      if (it == runs.end() || !it->second.outcome_kind) continue;
      const RunInfo& info = it->second;
      g.runs++;
      if (info.run->outcome != "running") g.runs_finished++;
      if (info.run->outcome == "succeeded") {
        g.runs_succeeded++;
        if (!info.assisted) g.runs_unassisted++;
      }
    }
    g.success_rate = Div(g.runs_succeeded, g.runs_finished);
    g.unassisted_rate = Div(g.runs_unassisted, g.runs_finished);
    g.per_success_usd = Div(g.spend_usd, g.runs_succeeded);
    g.ttft_ms = {static_cast<int64_t>(ttfts.size()), Percentile(ttfts, 50), Percentile(ttfts, 90)};
    g.tokens_per_s = {static_cast<int64_t>(speeds.size()), Percentile(speeds, 50),
                      Percentile(speeds, 90)};
    if (streamed.ms > 0) g.tokens_per_s_overall = TokensPerSecond(streamed);
    return g;
  }
};

}  // namespace

bool IsOutcomeKind(const std::string& kind) {
  return std::any_of(std::begin(kOutcomeKinds), std::end(kOutcomeKinds),
                     [&](const char* k) { return kind == k; });
}

Report ComputeReport(const LedgerFacts& facts, const Window& window) {
  Report report;
  report.window = window;
  report.empty = facts.runs.empty();

  // ---- runs, and who was helped by a person ----
  std::map<std::string, RunInfo> runs;
  for (const RunFact& r : facts.runs) {
    runs[r.id] = RunInfo{&r, IsOutcomeKind(r.kind), false, std::nullopt};
  }
  auto outcome_run = [&](const std::string& id) -> RunInfo* {
    auto it = runs.find(id);
    return it != runs.end() && it->second.outcome_kind ? &it->second : nullptr;
  };
  std::set<TaskKey> assisted_tasks;
  for (const ApprovalFact& a : facts.approvals) {
    if (a.decided_by != "person") continue;
    if (auto it = runs.find(a.run_id); it != runs.end()) it->second.assisted = true;
    if (!a.task_id.empty()) assisted_tasks.insert({a.run_id, a.task_id});
  }
  for (const SteerNoteFact& n : facts.steer_notes) {
    if (auto it = runs.find(n.run_id); it != runs.end()) it->second.assisted = true;
    if (n.delivered && !n.task_id.empty()) assisted_tasks.insert({n.run_id, n.task_id});
  }
  for (const ModelCallFact& c : facts.model_calls) {
    if (auto it = runs.find(c.run_id); it != runs.end() && !it->second.first_call_tier) {
      it->second.first_call_tier = c.tier;
    }
  }

  RunFigures& rf = report.runs;
  rf.total_all_kinds = static_cast<int64_t>(facts.runs.size());
  for (const auto& [id, info] : runs) {
    if (!info.outcome_kind) continue;
    const std::string& outcome = info.run->outcome;
    rf.total++;
    if (info.assisted) rf.assisted++;
    if (outcome == "running") {
      rf.running++;
      continue;
    }
    rf.finished++;
    if (outcome == "succeeded") {
      rf.succeeded++;
      if (!info.assisted) rf.unassisted++;
    } else if (outcome == "failed") {
      rf.failed++;
    } else if (outcome == "interrupted") {
      rf.interrupted++;
    } else if (outcome == "cancelled") {
      rf.cancelled++;
    }
  }
  rf.success_rate = Div(rf.succeeded, rf.finished);
  rf.unassisted_rate = Div(rf.unassisted, rf.finished);

  // ---- task units ----
  std::map<std::string, std::vector<const TaskFact*>> tasks_by_run;
  for (const TaskFact& t : facts.tasks) tasks_by_run[t.run_id].push_back(&t);
  std::vector<Unit> units;
  for (const auto& [id, info] : runs) {
    if (!info.outcome_kind) continue;
    auto it = tasks_by_run.find(id);
    if (it == tasks_by_run.end()) {
      Unit u{id, info.first_call_tier.value_or(""), ImplicitState(info.run->outcome),
             info.assisted};
      for (const StepGroupFact& g : facts.step_groups) {
        if (g.run_id != id) continue;
        u.steps += g.steps;
        u.retries += g.attempt_increases;
        u.rollbacks += g.rollbacks;
      }
      units.push_back(std::move(u));
      continue;
    }
    for (const TaskFact* t : it->second) {
      Unit u{id, t->tier, t->state, assisted_tasks.count({id, t->task_id}) > 0};
      // Tries of the whole task after the first, plus retries within tries.
      u.retries = std::max<int64_t>(0, t->attempts - 1);
      for (const StepGroupFact& g : facts.step_groups) {
        if (g.run_id != id || g.task_id != t->task_id) continue;
        u.steps += g.steps;
        u.retries += g.attempt_increases;
        u.rollbacks += g.rollbacks;
      }
      units.push_back(std::move(u));
    }
  }
  int64_t escalations = 0;
  std::map<std::string, int64_t> escalated_from, escalated_to;
  for (const EscalationFact& e : facts.escalations) {
    if (!outcome_run(e.run_id)) continue;
    escalations++;
    escalated_from[e.from_tier]++;
    escalated_to[e.to_tier]++;
  }
  std::vector<const Unit*> all_units;
  for (const Unit& u : units) all_units.push_back(&u);
  report.tasks = Summarize(all_units, escalations);
  // Rollbacks of steps outside any task unit (a task-less step in a run
  // with tasks) still count in the total.
  int64_t rollbacks = 0;
  for (const StepGroupFact& g : facts.step_groups) {
    if (outcome_run(g.run_id)) rollbacks += g.rollbacks;
  }
  report.tasks.rollbacks = rollbacks;
  report.tasks.rollbacks_per_task = Div(rollbacks, report.tasks.attempted);

  // ---- human time ----
  HumanFigures& h = report.human;
  for (const ApprovalFact& a : facts.approvals) {
    if (!outcome_run(a.run_id)) continue;
    if (a.decided_by == "person") {
      h.person_decisions++;
      if (a.decision == "denied") h.person_denials++;
      h.approval_wait_ms += a.waited_ms;
    } else {
      h.policy_decisions++;
    }
  }
  for (const SteerNoteFact& n : facts.steer_notes) {
    if (outcome_run(n.run_id)) h.steer_notes++;
  }
  h.minutes = static_cast<double>(h.approval_wait_ms) / 60000.0;
  h.minutes_per_run = Div(h.minutes, rf.total);
  h.steer_notes_per_run = Div(h.steer_notes, rf.total);

  // ---- cost ----
  CostFigures& cost = report.cost;
  for (const ModelCallFact& c : facts.model_calls) {
    cost.spend_usd += c.cost_usd;
    cost.tokens_in += c.tokens_in;
    cost.tokens_out += c.tokens_out;
    cost.tokens_cached += c.tokens_cached;
  }
  cost.tokens = cost.tokens_in + cost.tokens_out;
  cost.successes = rf.succeeded;
  cost.per_success_usd = Div(cost.spend_usd, cost.successes);
  cost.per_token_usd = Div(cost.spend_usd, cost.tokens);
  cost.per_mtok_usd = Div(cost.spend_usd * 1e6, cost.tokens);

  // ---- reviews before done ----
  ReviewFigures& rv = report.reviews;
  std::map<TaskKey, std::pair<bool, bool>> reviewed;  // (rejected, later approved)
  for (const ReviewFact& f : facts.reviews) {
    if (!outcome_run(f.run_id)) continue;
    rv.reviews++;
    rv.cost_usd += f.cost_usd;
    auto& [rejected, fixed] = reviewed[{f.run_id, f.task_id}];
    if (f.verdict == "request_changes") {
      rv.rejected++;
      rejected = true;
    } else if (f.verdict == "approve") {
      fixed = fixed || rejected;
    } else {
      rv.errors++;
    }
  }
  rv.tasks_reviewed = static_cast<int64_t>(reviewed.size());
  for (const auto& [key, state] : reviewed) {
    if (state.first) rv.tasks_rejected++;
    if (state.second) rv.tasks_fixed++;
  }
  rv.reviews_per_task = Div(rv.reviews, rv.tasks_reviewed);
  rv.rejected_share = Div(rv.rejected, rv.reviews);
  rv.fixed_rate = Div(rv.tasks_fixed, rv.tasks_rejected);
  rv.per_success_usd = Div(rv.cost_usd, rf.succeeded);

  // ---- where wall time went (ended runs of every kind) ----
  TimeFigures& tf = report.time;
  std::map<std::string, int64_t> model_ms, person_ms;
  for (const ModelCallFact& c : facts.model_calls) model_ms[c.run_id] += c.duration_ms;
  for (const ApprovalFact& a : facts.approvals) {
    if (a.decided_by == "person") person_ms[a.run_id] += a.waited_ms;
  }
  std::map<std::string, const RunTimeFact*> run_times;
  for (const RunTimeFact& t : facts.run_times) run_times[t.run_id] = &t;
  for (const RunFact& r : facts.runs) {
    if (!r.ended_at) continue;
    tf.runs++;
    tf.wall_ms += *r.ended_at - r.started_at;
    tf.model_ms += model_ms[r.id];
    tf.person_ms += person_ms[r.id];
    if (auto it = run_times.find(r.id); it != run_times.end()) {
      tf.tool_ms += it->second->tool_ms;
      tf.gate_ms += it->second->gate_ms;
      tf.gate_cache_hits += it->second->gate_cache_hits;
    }
  }
  tf.tandem_ms =
      std::max<int64_t>(0, tf.wall_ms - tf.model_ms - tf.tool_ms - tf.gate_ms - tf.person_ms);
  const double wall = static_cast<double>(tf.wall_ms);
  tf.model_share = Div(tf.model_ms, wall);
  tf.tool_share = Div(tf.tool_ms, wall);
  tf.gate_share = Div(tf.gate_ms, wall);
  tf.person_share = Div(tf.person_ms, wall);
  tf.tandem_share = Div(tf.tandem_ms, wall);

  // ---- per model and per role ----
  std::map<std::pair<std::string, std::string>, CallAccumulator> by_model;
  std::map<std::string, CallAccumulator> by_role;
  for (const ModelCallFact& c : facts.model_calls) {
    CallAccumulator& m = by_model[{c.provider, c.model}];
    m.group.provider = c.provider;
    m.group.name = c.model;
    m.Add(c);
    CallAccumulator& r = by_role[c.role];
    r.group.name = c.role;
    r.Add(c);
  }
  for (auto& [key, acc] : by_model) report.models.push_back(acc.Finish(runs, cost.spend_usd));
  for (auto& [key, acc] : by_role) report.roles.push_back(acc.Finish(runs, cost.spend_usd));

  // ---- per tier: task units by their tier, model calls by theirs ----
  std::map<std::string, std::vector<const Unit*>> units_by_tier;
  for (const Unit& u : units) units_by_tier[u.tier].push_back(&u);
  std::map<std::string, std::pair<int64_t, double>> calls_by_tier;  // calls, spend
  std::map<std::string, std::set<std::string>> runs_by_tier;
  for (const ModelCallFact& c : facts.model_calls) {
    auto& [calls, spend] = calls_by_tier[c.tier];
    calls++;
    spend += c.cost_usd;
    runs_by_tier[c.tier].insert(c.run_id);
  }
  std::set<std::string> tiers;
  for (const auto& [tier, v] : units_by_tier) tiers.insert(tier);
  for (const auto& [tier, v] : calls_by_tier) tiers.insert(tier);
  for (const auto& [tier, n] : escalated_from) tiers.insert(tier);
  for (const auto& [tier, n] : escalated_to) tiers.insert(tier);
  for (const std::string& tier : tiers) {
    TierGroup g;
    g.tier = tier;
    g.tasks = Summarize(units_by_tier[tier], escalated_from[tier]);
    g.escalated_to = escalated_to[tier];
    g.calls = calls_by_tier[tier].first;
    g.spend_usd = calls_by_tier[tier].second;
    g.per_done_task_usd = Div(g.spend_usd, g.tasks.done);
    int64_t success_wall_ms = 0;
    for (const std::string& id : runs_by_tier[tier]) {
      const RunInfo* info = outcome_run(id);
      if (!info || info->run->outcome != "succeeded" || !info->run->ended_at) continue;
      g.runs_succeeded++;
      success_wall_ms += *info->run->ended_at - info->run->started_at;
    }
    g.per_success_usd = Div(g.spend_usd, g.runs_succeeded);
    g.minutes_per_success = Div(static_cast<double>(success_wall_ms) / 60000.0, g.runs_succeeded);
    report.tiers.push_back(std::move(g));
  }
  // ---- fan-outs ----
  FanoutFigures& fo = report.fanout;
  for (const RunFact& r : facts.runs) fo.fanouts += r.kind == "fanout" ? 1 : 0;
  for (const VariantFact& v : facts.variants) {
    ++fo.variants;
    if (v.state != "running") ++fo.finished;
    if (v.state == "passed") ++fo.passed;
    fo.spend_usd += v.cost_usd;
  }
  for (const PickFact& p : facts.picks) {
    if (p.applied) {
      ++fo.picks;
      if (p.rank && *p.rank == 1) ++fo.top_picks;
    } else {
      ++fo.refused;
    }
    fo.pick_minutes += static_cast<double>(p.waited_ms) / 60000.0;
  }
  fo.variants_per_fanout = Div(static_cast<double>(fo.variants), static_cast<double>(fo.fanouts));
  fo.pass_rate = Div(static_cast<double>(fo.passed), static_cast<double>(fo.finished));
  fo.per_pick_usd = Div(fo.spend_usd, static_cast<double>(fo.picks));
  fo.top_pick_rate = Div(static_cast<double>(fo.top_picks), static_cast<double>(fo.picks));
  return report;
}

}  // namespace tandem::metrics
