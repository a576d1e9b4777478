#include "tandem/base/clock.h"
#include "tandem/orchestrator/steer.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"

namespace tandem::orchestrator {
Result<SteerResult> AddSteer(const std::filesystem::path& repo_root, ledger::Ledger& ledger,
                             std::string_view note, std::string_view source,
                             std::string_view task_id) {
  std::vector<std::string> running;
  auto plan = memory::LoadPlan(repo_root / memory::kPlanFileName);
  if (!task_id.empty()) {
    if (!plan) return plan.error().WithContext("tandem steer --task");
    if (!plan->Find(task_id)) {
      return InvalidArgument(fmt::format("plan.md has no task {} (tandem steer --task)", task_id));
    }
    running.emplace_back(task_id);
  } else if (plan) {
    for (const memory::PlanTask& t : plan->tasks) {
      if (t.state == memory::TaskState::kRunning) running.push_back(t.id);
    }
    if (running.size() < 2) running.clear();  // any task's next step takes it
  }
  SteerResult result;
  for (const ledger::RunRow& run : TRY(ledger.ActiveRuns())) {
    if (run.kind == "run" || run.kind == "resume") {
      result.run_id = run.id;
      result.run_live = true;
    }
  }
  if (result.run_id.empty()) {
    auto last = TRY(ledger.LastRun("run"));
    if (last && last->outcome != ledger::RunOutcome::kSucceeded) result.run_id = last->id;
  }
  if (!result.run_id.empty()) {
    if (running.empty()) result.note_id = TRY(ledger.AddSteerNote(result.run_id, note, source));
    for (const std::string& id : running) {
      result.note_id = TRY(ledger.AddSteerNote(result.run_id, note, source, id));
    }
  }
  RETURN_IF_ERROR(memory::AppendNote(repo_root / memory::kProgressFileName,
                                     std::string(task_id), memory::NoteKind::kSteer, note));
  return result;
}

std::string SteerInbox::TakeForTask(const std::string& task_id) {
  if (!ledger_) return "";
  auto notes = ledger_->PendingSteerNotes(run_id_);
  if (!notes || notes->empty()) return "";
  std::string text;
  for (const ledger::SteerNote& n : *notes) {
    if (!n.task_id.empty() && n.task_id != task_id) continue;
    text += "- " + n.note + "\n";
    in_task_context_.insert(n.id);
    events_->Publish(
        {{run_id_, task_id, "orchestrator"}, WallClockMs(), protocol::SteerDelivered{n.note, "task"}});
  }
  return text;
}

std::string SteerInbox::TakeForStep(const std::string& task_id,
                                    std::optional<ledger::StepId> step) {
  if (!ledger_) return "";
  auto notes = ledger_->PendingSteerNotes(run_id_);
  if (!notes || notes->empty()) return "";
  std::string text;
  for (const ledger::SteerNote& n : *notes) {
    if (!n.task_id.empty() && n.task_id != task_id) continue;
    bool known = in_task_context_.count(n.id) > 0;
    if (step) {
      if (Status marked = ledger_->MarkSteerDelivered(n.id, *step); !marked.ok()) {
        events_->Publish({{run_id_, task_id, "orchestrator"}, WallClockMs(),
                          protocol::Notice{protocol::NoticeLevel::kWarn, "ledger: a steering note's delivery not "
                                                   "recorded (it may be delivered again): " +
                                                       marked.message()}});
      }
      in_task_context_.erase(n.id);
    } else {
      in_task_context_.insert(n.id);  // marked at the next step that has a ledger row
    }
    if (known) continue;
    text += "- " + n.note + "\n";
    events_->Publish(
        {{run_id_, task_id, "orchestrator"}, WallClockMs(), protocol::SteerDelivered{n.note, "step"}});
  }
  return text;
}

}  // namespace tandem::orchestrator
