// Steering: a person's note for a run that is going on ("only change X",
// "don't touch the types yet"), added with `tandem steer` from another
// terminal, recorded in the ledger and progress.md, and delivered by the
// orchestrator into the next executor step.
//
// Delivery: at a task boundary the pending notes go into the task's first
// message; while a task runs, into the feedback of the step that just ended
// (so the next model call sees them). Each note is delivered once and marked
// with the step that carried it (Ledger::MarkSteerDelivered).
//
// Thread-safety: SteerInbox is not thread-safe; with parallel tasks the
// runner calls it under a mutex of its own. A note with a task id goes to
// that task only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "tandem/base/status.h"
#include "tandem/ledger/ledger.h"
#include "tandem/protocol/event.h"

namespace tandem::orchestrator {

struct SteerResult {
  std::string run_id;     // the run the note went to; empty: no run to steer
  bool run_live = false;  // its process is alive (delivery at its next step)
  int64_t note_id = 0;
};

// `tandem steer`: adds `note` to the running `tandem run` of the repository
// (else to its last unfinished one, which `tandem resume` continues), and to
// progress.md's Notes. With no run at all the note is only in progress.md,
// where every later task's executor reads it.
//
// `task_id` (`--task ID`): the note reaches only that task's next step (and
// the task's first message if it has not started); InvalidArgument when
// plan.md has no such task. Without it, when several tasks run at once
// (plan.md marks them [~]), each of them gets a copy; otherwise the next
// step of whichever task runs takes it.
Result<SteerResult> AddSteer(const std::filesystem::path& repo_root, ledger::Ledger& ledger,
                             std::string_view note, std::string_view source,
                             std::string_view task_id = {});

class SteerInbox {
 public:
  SteerInbox(ledger::Ledger* ledger, std::string run_id, protocol::EventSink* events)
      : ledger_(ledger), run_id_(std::move(run_id)), events_(events) {}

  // The pending notes, for task `task_id`'s first message (empty: none).
  // They are marked delivered at the task's first step (TakeForStep).
  std::string TakeForTask(const std::string& task_id);

  // After a step of task `task_id` (ledger id `step`): marks the notes given
  // to the task delivered, and returns the text of notes added since.
  std::string TakeForStep(const std::string& task_id, std::optional<ledger::StepId> step);

 private:
  ledger::Ledger* ledger_;
  std::string run_id_;
  protocol::EventSink* events_;
  std::set<int64_t> in_task_context_;  // given at a task boundary, not yet marked
};

}  // namespace tandem::orchestrator
