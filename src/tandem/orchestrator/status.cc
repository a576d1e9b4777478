#include "tandem/orchestrator/status.h"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "tandem/ledger/done_tasks.h"

namespace tandem::orchestrator {

Result<RunStatus> GatherStatus(const std::filesystem::path& repo_root, ledger::Ledger& ledger) {
  RunStatus status;
  for (const ledger::RunRow& run : TRY(ledger.ActiveRuns())) {
    if (run.kind == "run") {
      status.run = run;
      status.live = true;
    }
  }
  if (!status.run) status.run = TRY(ledger.LastRun("run"));
  std::vector<ledger::TaskRow> rows;
  if (status.run) {
    rows = TRY(ledger.ListTasks(status.run->id));
    auto report = ledger.RunSummary(status.run->id);
    if (report) status.report = std::move(*report);
    if (status.run->outcome != ledger::RunOutcome::kSucceeded) {
      status.pending_notes = TRY(ledger.PendingSteerNotes(status.run->id));
    }
  }
  auto plan = memory::LoadPlan(repo_root / memory::kPlanFileName);
  if (!plan) {
    status.plan_error = plan.error().message();
    return status;
  }
  status.goal = plan->goal;
  std::map<std::string, int64_t> steps;
  if (status.run) {
    for (const ledger::StepRow& step : TRY(ledger.ListSteps(status.run->id))) {
      if (!step.task_id.empty()) steps[step.task_id]++;
    }
  }
  std::set<std::pair<std::string, std::string>> verified;
  for (const ledger::DoneTask& r : TRY(ledger::ListDoneTasks(ledger))) {
    verified.emplace(r.task_id, r.title);
  }
  for (const memory::PlanTask& t : plan->tasks) {
    TaskStatusRow row{t.id, t.title, t.state, t.risk, std::nullopt, steps[t.id]};
    row.unverified = t.state == memory::TaskState::kDone && !verified.count({t.id, t.title});
    if (row.unverified) status.unverified.push_back(t.id);
    for (const ledger::TaskRow& r : rows) {
      if (r.task_id == t.id) row.ledger = r;
    }
    if (t.state == memory::TaskState::kRunning) status.running.push_back(t.id);
    if (t.state == memory::TaskState::kWaiting) status.waiting.push_back(t.id);
    status.tasks.push_back(std::move(row));
  }
  return status;
}

namespace {

// "running", an outcome, or "interrupted" when its process is gone.
std::string RunState(const RunStatus& s) {
  if (s.live) return "running";
  if (s.run->outcome == ledger::RunOutcome::kRunning) return "interrupted";
  return std::string(ledger::ToString(s.run->outcome));
}

}  // namespace

std::string FormatStatus(const RunStatus& s) {
  std::string out;
  if (s.run) {
    const ledger::RunRow& r = *s.run;
    std::string state = RunState(s);
    if (s.live) state += fmt::format(" (process {})", r.owner.pid);
    if (state == "interrupted" && r.outcome == ledger::RunOutcome::kRunning) {
      state += " (process gone)";
    }
    out += fmt::format("run {} · {} · {}\n", r.id, state, r.goal);
    if (s.report) {
      const ledger::RunReport& rep = *s.report;
      out += fmt::format(
          "  {} steps ({} rolled back) · {} escalations · {} approved, {} denied · ${:.4f}\n",
          rep.totals.steps, rep.steps_rolled_back, rep.escalations, rep.approvals, rep.denials,
          rep.totals.cost_usd);
    }
  } else {
    out += "no `tandem run` yet in this repository\n";
  }
  if (!s.plan_error.empty()) {
    out += "plan.md: " + s.plan_error + "\n";
    return out;
  }
  out +=
      fmt::format("plan: {} ({} tasks)\n", s.goal.empty() ? "(no goal)" : s.goal, s.tasks.size());
  int done = 0;
  for (const TaskStatusRow& t : s.tasks) {
    if (t.state == memory::TaskState::kDone && !t.unverified) done++;
    std::string detail;
    if (t.unverified) detail = "marked done in plan.md, not verified by tandem (`tandem run` runs it)";
    if (t.ledger) {
      detail = fmt::format("{} · {} attempt{}", t.ledger->tier, t.ledger->attempts,
                           t.ledger->attempts == 1 ? "" : "s");
      if (t.state == memory::TaskState::kRunning) detail += fmt::format(" · step {}", t.steps);
      if (!t.ledger->outcome_detail.empty()) detail += " · " + t.ledger->outcome_detail;
    }
    out += fmt::format("  [{}] {:<6} {:<8} {}{}{}\n", memory::TaskStateMark(t.state), t.id,
                       protocol::Name(t.state), t.title,
                       t.risk == memory::Risk::kIrreversible ? " (irreversible)" : "",
                       detail.empty() ? "" : "\n           " + detail);
  }
  out += fmt::format("{}/{} done", done, s.tasks.size());
  if (!s.unverified.empty()) out += fmt::format(" · not verified: {}", fmt::join(s.unverified, ", "));
  if (!s.running.empty()) out += fmt::format(" · running: {}", fmt::join(s.running, ", "));
  if (!s.waiting.empty()) {
    out += fmt::format(" · waiting for approval: {} (`tandem run` asks again)",
                       fmt::join(s.waiting, ", "));
  }
  out += "\n";
  for (const ledger::SteerNote& n : s.pending_notes) {
    out += fmt::format("steer note not yet delivered: {}\n", n.note);
  }
  return out;
}

}  // namespace tandem::orchestrator

namespace tandem::orchestrator {

nlohmann::json StatusToJson(const RunStatus& s) {
  using nlohmann::json;
  json out = {{"schema", "tandem.status/1"}};
  if (s.run) {
    const ledger::RunRow& r = *s.run;
    json run = {{"id", r.id},          {"kind", r.kind},       {"goal", r.goal},
                {"state", RunState(s)}, {"live", s.live},       {"pid", r.owner.pid},
                {"started_at", r.started_at}};
    run["ended_at"] = r.ended_at ? json(*r.ended_at) : json(nullptr);
    if (s.report) {
      const ledger::RunReport& rep = *s.report;
      run["totals"] = {{"steps", rep.totals.steps},
                       {"steps_rolled_back", rep.steps_rolled_back},
                       {"escalations", rep.escalations},
                       {"approvals", rep.approvals},
                       {"denials", rep.denials},
                       {"cost_usd", rep.totals.cost_usd},
                       {"human_ms", rep.totals.human_ms}};
    }
    out["run"] = std::move(run);
  } else {
    out["run"] = nullptr;
  }
  json plan = {{"goal", s.goal}};
  plan["error"] = s.plan_error.empty() ? json(nullptr) : json(s.plan_error);
  json tasks = json::array();
  int done = 0;
  for (const TaskStatusRow& t : s.tasks) {
    if (t.state == memory::TaskState::kDone && !t.unverified) done++;
    json task = {{"id", t.id},
                 {"title", t.title},
                 {"state", std::string(protocol::Name(t.state))},
                 {"unverified", t.unverified},
                 {"risk", t.risk == memory::Risk::kIrreversible ? "irreversible" : "reversible"}};
    if (t.ledger) {
      task["tier"] = t.ledger->tier;
      task["attempts"] = t.ledger->attempts;
      task["detail"] = t.ledger->outcome_detail;
      task["steps"] = t.steps;
    } else {
      task["tier"] = nullptr;
      task["attempts"] = 0;
      task["detail"] = "";
      task["steps"] = 0;
    }
    tasks.push_back(std::move(task));
  }
  plan["tasks"] = std::move(tasks);
  plan["done"] = done;
  plan["total"] = s.tasks.size();
  out["plan"] = std::move(plan);
  out["running"] = s.running;
  out["waiting"] = s.waiting;
  out["unverified"] = s.unverified;
  json notes = json::array();
  for (const ledger::SteerNote& n : s.pending_notes) notes.push_back(n.note);
  out["pending_notes"] = std::move(notes);
  return out;
}

}  // namespace tandem::orchestrator
