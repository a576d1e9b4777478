#include "tandem/metrics/report_json.h"

#include <limits>

namespace tandem::metrics {
namespace {

using json = nlohmann::ordered_json;

json R(const Ratio& r) { return r ? json(*r) : json(nullptr); }

json Dist(const Distribution& d) {
  return {{"samples", d.samples}, {"median", R(d.median)}, {"p90", R(d.p90)}};
}

json Tasks(const TaskFigures& t) {
  return {{"total", t.total},
          {"finished", t.finished},
          {"done", t.done},
          {"failed", t.failed},
          {"skipped", t.skipped},
          {"unassisted", t.unassisted},
          {"success_rate", R(t.success_rate)},
          {"unassisted_rate", R(t.unassisted_rate)},
          {"attempted", t.attempted},
          {"retries", t.retries},
          {"retries_per_task", R(t.retries_per_task)},
          {"rollbacks", t.rollbacks},
          {"rollbacks_per_task", R(t.rollbacks_per_task)},
          {"escalations", t.escalations}};
}

json Group(const CallGroup& g, bool with_provider) {
  json j = {{"calls", g.calls},
            {"errors", g.errors},
            {"tokens_in", g.tokens_in},
            {"tokens_out", g.tokens_out},
            {"tokens_cached", g.tokens_cached},
            {"spend_usd", g.spend_usd},
            {"spend_share", R(g.spend_share)},
            {"per_mtok_usd", R(g.per_mtok_usd)},
            {"model_ms", g.model_ms},
            {"runs", g.runs},
            {"runs_finished", g.runs_finished},
            {"runs_succeeded", g.runs_succeeded},
            {"runs_unassisted", g.runs_unassisted},
            {"success_rate", R(g.success_rate)},
            {"unassisted_rate", R(g.unassisted_rate)},
            {"per_success_usd", R(g.per_success_usd)},
            {"ttft_ms", Dist(g.ttft_ms)},
            {"tokens_per_s", Dist(g.tokens_per_s)},
            {"tokens_per_s_overall", R(g.tokens_per_s_overall)}};
  if (with_provider) {
    j["provider"] = g.provider;
    j["model"] = g.name;
  } else {
    j["role"] = g.name;
  }
  return j;
}

}  // namespace

nlohmann::ordered_json ReportToJson(const Report& report, const std::string& repo) {
  const Report& r = report;
  json window = {{"label", r.window.label}, {"since_ms", r.window.since_ms}};
  window["until_ms"] = r.window.until_ms == std::numeric_limits<int64_t>::max()
                           ? json(nullptr)
                           : json(r.window.until_ms);
  json out = {{"schema", kStatsSchema}, {"repo", repo}, {"window", window}, {"empty", r.empty}};
  if (r.empty) out["message"] = "no runs yet";
  const RunFigures& rf = r.runs;
  out["runs"] = {{"total_all_kinds", rf.total_all_kinds},
                 {"total", rf.total},
                 {"running", rf.running},
                 {"finished", rf.finished},
                 {"succeeded", rf.succeeded},
                 {"failed", rf.failed},
                 {"interrupted", rf.interrupted},
                 {"cancelled", rf.cancelled},
                 {"assisted", rf.assisted},
                 {"unassisted", rf.unassisted},
                 {"success_rate", R(rf.success_rate)},
                 {"unassisted_rate", R(rf.unassisted_rate)}};
  out["tasks"] = Tasks(r.tasks);
  const HumanFigures& h = r.human;
  out["human"] = {{"person_decisions", h.person_decisions},
                  {"person_denials", h.person_denials},
                  {"policy_decisions", h.policy_decisions},
                  {"approval_wait_ms", h.approval_wait_ms},
                  {"minutes", h.minutes},
                  {"minutes_per_run", R(h.minutes_per_run)},
                  {"steer_notes", h.steer_notes},
                  {"steer_notes_per_run", R(h.steer_notes_per_run)}};
  const CostFigures& c = r.cost;
  out["cost"] = {{"spend_usd", c.spend_usd},
                 {"successes", c.successes},
                 {"per_success_usd", R(c.per_success_usd)},
                 {"tokens_in", c.tokens_in},
                 {"tokens_out", c.tokens_out},
                 {"tokens_cached", c.tokens_cached},
                 {"tokens", c.tokens},
                 {"per_token_usd", R(c.per_token_usd)},
                 {"per_mtok_usd", R(c.per_mtok_usd)}};
  const ReviewFigures& rv = r.reviews;
  out["reviews"] = {{"reviews", rv.reviews},
                    {"tasks_reviewed", rv.tasks_reviewed},
                    {"reviews_per_task", R(rv.reviews_per_task)},
                    {"rejected", rv.rejected},
                    {"rejected_share", R(rv.rejected_share)},
                    {"tasks_rejected", rv.tasks_rejected},
                    {"tasks_fixed", rv.tasks_fixed},
                    {"fixed_rate", R(rv.fixed_rate)},
                    {"errors", rv.errors},
                    {"cost_usd", rv.cost_usd},
                    {"per_success_usd", R(rv.per_success_usd)}};
  const TimeFigures& t = r.time;
  out["time"] = {{"runs", t.runs},
                 {"wall_ms", t.wall_ms},
                 {"model_ms", t.model_ms},
                 {"tool_ms", t.tool_ms},
                 {"gate_ms", t.gate_ms},
                 {"person_ms", t.person_ms},
                 {"tandem_ms", t.tandem_ms},
                 {"gate_cache_hits", t.gate_cache_hits},
                 {"shares",
                  {{"model", R(t.model_share)},
                   {"tools", R(t.tool_share)},
                   {"gates", R(t.gate_share)},
                   {"person", R(t.person_share)},
                   {"tandem", R(t.tandem_share)}}}};
  out["models"] = json::array();
  for (const CallGroup& g : r.models) out["models"].push_back(Group(g, true));
  out["roles"] = json::array();
  for (const CallGroup& g : r.roles) out["roles"].push_back(Group(g, false));
  out["tiers"] = json::array();
  for (const TierGroup& g : r.tiers) {
    out["tiers"].push_back({{"tier", g.tier},
                            {"tasks", Tasks(g.tasks)},
                            {"escalated_to", g.escalated_to},
                            {"calls", g.calls},
                            {"spend_usd", g.spend_usd},
                            {"per_done_task_usd", R(g.per_done_task_usd)},
                            {"runs_succeeded", g.runs_succeeded},
                            {"per_success_usd", R(g.per_success_usd)},
                            {"minutes_per_success", R(g.minutes_per_success)}});
  }
  const FanoutFigures& f = r.fanout;
  out["fanout"] = {{"fanouts", f.fanouts},
                   {"variants", f.variants},
                   {"variants_per_fanout", R(f.variants_per_fanout)},
                   {"finished", f.finished},
                   {"passed", f.passed},
                   {"pass_rate", R(f.pass_rate)},
                   {"spend_usd", f.spend_usd},
                   {"picks", f.picks},
                   {"refused", f.refused},
                   {"per_pick_usd", R(f.per_pick_usd)},
                   {"top_picks", f.top_picks},
                   {"top_pick_rate", R(f.top_pick_rate)},
                   {"pick_minutes", f.pick_minutes}};
  out["skills"] = json::array();
  auto arm = [&](const SkillArmFigures& a) {
    return json{{"tasks", a.tasks},
                {"succeeded", a.succeeded},
                {"success_rate", R(a.success_rate)},
                {"steps_per_task", R(a.steps_per_task)},
                {"tokens_per_task", R(a.tokens_per_task)},
                {"cost_per_success_usd", R(a.cost_per_success_usd)},
                {"wall_ms_per_task", R(a.wall_ms_per_task)}};
  };
  for (const SkillFigures& g : r.skills) {
    out["skills"].push_back({{"skill", g.skill},
                             {"with", arm(g.with)},
                             {"without", arm(g.without)},
                             {"time_saved_ms", R(g.time_saved_ms)}});
  }
  return out;
}

}  // namespace tandem::metrics
