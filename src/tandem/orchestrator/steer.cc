#include "tandem/base/clock.h"
#include "tandem/orchestrator/steer.h"

#include <fmt/format.h>

#include <chrono>

#include "tandem/memory/progress_md.h"

namespace tandem::orchestrator {
Result<SteerResult> AddSteer(const std::filesystem::path& repo_root, ledger::Ledger& ledger,
                             std::string_view note, std::string_view source) {
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
    result.note_id = TRY(ledger.AddSteerNote(result.run_id, note, source));
  }
  RETURN_IF_ERROR(memory::AppendNote(repo_root / memory::kProgressFileName, "",
                                     memory::NoteKind::kSteer, note));
  return result;
}

std::string SteerInbox::TakeForTask(const std::string& task_id) {
  if (!ledger_) return "";
  auto notes = ledger_->PendingSteerNotes(run_id_);
  if (!notes || notes->empty()) return "";
  std::string text;
  for (const ledger::SteerNote& n : *notes) {
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
    bool known = in_task_context_.count(n.id) > 0;
    if (step) {
      if (Status marked = ledger_->MarkSteerDelivered(n.id, *step); !marked.ok()) {
        events_->Publish({{run_id_, task_id, "orchestrator"}, WallClockMs(),
                          protocol::Notice{"warn", "ledger: a steering note's delivery not "
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
