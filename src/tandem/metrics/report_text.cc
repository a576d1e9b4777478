#include "tandem/metrics/report_text.h"

#include <fmt/format.h>

namespace tandem::metrics {
namespace {

constexpr const char* kNone = "–";

std::string Pct(const Ratio& r) { return r ? fmt::format("{:.1f}%", *r * 100) : kNone; }

std::string Num(const Ratio& r, int decimals = 2) {
  return r ? fmt::format("{:.{}f}", *r, decimals) : kNone;
}

std::string Usd(double usd) {
  return usd >= 1 ? fmt::format("${:.2f}", usd) : fmt::format("${:.4f}", usd);
}
std::string Usd(const Ratio& r) { return r ? Usd(*r) : kNone; }

std::string Ms(double ms) {
  if (ms < 1000) return fmt::format("{:.0f} ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f} s", ms / 1000);
  if (ms < 3'600'000) return fmt::format("{:.1f} min", ms / 60'000);
  return fmt::format("{:.1f} h", ms / 3'600'000);
}
std::string Ms(const Ratio& r) { return r ? Ms(*r) : kNone; }

std::string Dist(const Distribution& d, bool ms) {
  if (d.samples == 0) return kNone;
  return ms ? Ms(d.median) + " / " + Ms(d.p90) : fmt::format("{:.0f} / {:.0f}", *d.median, *d.p90);
}

std::string Label(const std::string& s) { return s.empty() ? "(none)" : s; }

void CallTable(std::string& out, const char* title, const std::vector<CallGroup>& groups,
               bool models) {
  if (groups.empty()) return;
  out += fmt::format("\n{}\n", title);
  out += fmt::format("  {:<28} {:>6} {:>5} {:>8} {:>10} {:>9} {:>10} {:>10} {:>21} {:>13}\n",
                     models ? "model" : "role", "calls", "runs", "success", "unassisted", "spend",
                     "$/success", "$/1M tok", "ttft p50 / p90", "tok/s p50/p90");
  for (const CallGroup& g : groups) {
    std::string name = models ? g.provider + "/" + g.name : Label(g.name);
    out += fmt::format("  {:<28} {:>6} {:>5} {:>8} {:>10} {:>9} {:>10} {:>10} {:>21} {:>13}\n",
                       name, g.calls, g.runs, Pct(g.success_rate), Pct(g.unassisted_rate),
                       Usd(g.spend_usd), Usd(g.per_success_usd), Usd(g.per_mtok_usd),
                       Dist(g.ttft_ms, true), Dist(g.tokens_per_s, false));
  }
}

}  // namespace

std::string RenderReportText(const Report& r, const std::string& repo) {
  std::string out = fmt::format("tandem stats · {} · {}\n", repo, r.window.label);
  if (r.empty) {
    out += "\nno runs yet in this window (try --all, or run `tandem demo`).\n";
    return out;
  }
  const RunFigures& rf = r.runs;
  const TaskFigures& t = r.tasks;
  out += fmt::format("{} runs ({} do/run/demo; definitions: docs/METRICS.md)\n\n",
                     rf.total_all_kinds, rf.total);
  out += fmt::format(
      "completion   runs: {} of {} finished succeeded ({}), {} without a person ({}); "
      "{} running\n",
      rf.succeeded, rf.finished, Pct(rf.success_rate), rf.unassisted, Pct(rf.unassisted_rate),
      rf.running);
  out += fmt::format("             tasks: {} of {} finished done ({}), {} without a person ({})\n",
                     t.done, t.finished, Pct(t.success_rate), t.unassisted, Pct(t.unassisted_rate));
  out += fmt::format(
      "recovery     {} retries over {} attempted tasks ({} per task) · {} rollbacks · "
      "{} escalations\n",
      t.retries, t.attempted, Num(t.retries_per_task), t.rollbacks, t.escalations);
  const HumanFigures& h = r.human;
  out += fmt::format(
      "human        {:.1f} min waiting for {} approval decisions ({} min per run) · "
      "{} steer notes (counted, not timed)\n",
      h.minutes, h.person_decisions, Num(h.minutes_per_run), h.steer_notes);
  const CostFigures& c = r.cost;
  out += fmt::format("cost         {} spent · {} per success ({}) · {} per 1M tokens ({} tokens)\n",
                     Usd(c.spend_usd), Usd(c.per_success_usd), c.successes, Usd(c.per_mtok_usd),
                     c.tokens);
  const ReviewFigures& rv = r.reviews;
  if (rv.reviews > 0) {
    out += fmt::format(
        "review       {} reviews of {} tasks ({} per task) · {} requested changes ({}) · "
        "{} of {} rejected tasks fixed ({}) · {} spent, {} per success\n",
        rv.reviews, rv.tasks_reviewed, Num(rv.reviews_per_task), rv.rejected,
        Pct(rv.rejected_share), rv.tasks_fixed, rv.tasks_rejected, Pct(rv.fixed_rate),
        Usd(rv.cost_usd), Usd(rv.per_success_usd));
  }
  const TimeFigures& tf = r.time;
  out += fmt::format(
      "wall time    {} over {} ended runs: model {} · tools {} · gates {} · person {} · "
      "tandem {}\n",
      Ms(static_cast<double>(tf.wall_ms)), tf.runs, Pct(tf.model_share), Pct(tf.tool_share),
      Pct(tf.gate_share), Pct(tf.person_share), Pct(tf.tandem_share));

  const FanoutFigures& fo = r.fanout;
  if (fo.fanouts > 0) {
    out += fmt::format(
        "fan-out      {} fan-outs · {} variants per task · {} of {} variants passed ({}) · "
        "{} per picked result ({} picks, {} refused) · top-ranked picked {} · "
        "{:.1f} min picking\n",
        fo.fanouts, Num(fo.variants_per_fanout, 1), fo.passed, fo.finished, Pct(fo.pass_rate),
        Usd(fo.per_pick_usd), fo.picks, fo.refused, Pct(fo.top_pick_rate), fo.pick_minutes);
  }

  CallTable(out, "per model", r.models, true);
  CallTable(out, "per role", r.roles, false);
  if (!r.tiers.empty()) {
    out += "\nper tier\n";
    out += fmt::format(
        "  {:<20} {:>6} {:>6} {:>8} {:>10} {:>8} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11}\n",
        "tier", "tasks", "done", "success", "unassisted", "retries", "esc. from", "esc. to",
        "spend", "$/done", "$/success", "min/success");
    for (const TierGroup& g : r.tiers) {
      out += fmt::format(
          "  {:<20} {:>6} {:>6} {:>8} {:>10} {:>8} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11}\n",
          Label(g.tier), g.tasks.total, g.tasks.done, Pct(g.tasks.success_rate),
          Pct(g.tasks.unassisted_rate), g.tasks.retries, g.tasks.escalations, g.escalated_to,
          Usd(g.spend_usd), Usd(g.per_done_task_usd), Usd(g.per_success_usd),
          g.minutes_per_success ? fmt::format("{:.2f}", *g.minutes_per_success) : "-");
    }
  }
  if (!r.skills.empty()) {
    out += "\nper skill (with the skill / without any skill; all time)\n";
    out += fmt::format("  {:<28} {:>13} {:>17} {:>13} {:>17} {:>17} {:>11}\n", "skill", "tasks",
                       "success", "steps/task", "tokens/task", "$/success", "time saved");
    for (const SkillFigures& g : r.skills) {
      auto pair = [](const std::string& a, const std::string& b) { return a + " / " + b; };
      out += fmt::format(
          "  {:<28} {:>13} {:>17} {:>13} {:>17} {:>17} {:>11}\n", g.skill,
          pair(std::to_string(g.with.tasks), std::to_string(g.without.tasks)),
          pair(Pct(g.with.success_rate), Pct(g.without.success_rate)),
          pair(Num(g.with.steps_per_task, 1), Num(g.without.steps_per_task, 1)),
          pair(Num(g.with.tokens_per_task, 0), Num(g.without.tokens_per_task, 0)),
          pair(Usd(g.with.cost_per_success_usd), Usd(g.without.cost_per_success_usd)),
          Ms(g.time_saved_ms));
    }
  }
  return out;
}

}  // namespace tandem::metrics
