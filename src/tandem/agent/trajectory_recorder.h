// Records a task's trajectory (skills/trajectory.h, docs/FORMATS.md) while
// it runs, without touching the turn loop: a StepPolicy wrapped around the
// verified-step policy sees what the model replied and called, what the
// tools returned and the feedback it got; an EventSink placed in front of
// the task's sink sees the gates' verdicts and the rollbacks. After each
// step that kept an edit it adds the step's patch (Workspace::Patch between
// the checkpoints before and after the step).
//
// Cost: a copy of each reply and result (capped when written), and one
// tree-to-tree patch per edited step.
// Thread-safety: the policy calls come from the agent's thread; Publish may
// come from any thread (gates run on threads of their own).
#pragma once

#include <optional>
#include <vector>

#include "tandem/agent/turn_loop.h"
#include "tandem/base/mutex.h"
#include "tandem/protocol/event.h"
#include "tandem/skills/trajectory.h"
#include "tandem/workspace/workspace.h"

namespace tandem::agent {

class TrajectoryRecorder : public StepPolicy, public protocol::EventSink {
 public:
  // `next`: where events go on to (REQUIRED). `ws`: the task's workspace.
  TrajectoryRecorder(protocol::EventSink* next, workspace::Workspace* ws);

  // REQUIRES: called once, before the loop runs, with the policy whose
  // events come through this sink.
  void Wrap(StepPolicy* inner) { inner_ = inner; }

  std::optional<std::string> BeginStep(int step) override;
  void OnReply(const protocol::ModelResponse& reply) override;
  StepOutcome RunStep(int step, const std::vector<protocol::ToolCall>& calls) override;
  StepOutcome OnTextOnly(int step, const std::string& text) override;

  void Publish(const protocol::Event& event) override;

  // The entries recorded so far, in order (the gates and rollbacks of a step
  // after its tool results).
  std::vector<skills::TrajectoryEntry> TakeEntries();

 private:
  // Appends the step's results, then what the sink saw during it.
  void EndStep(int step, const StepOutcome& outcome, const std::vector<protocol::ToolCall>& calls);

  protocol::EventSink* next_;
  workspace::Workspace* ws_;
  StepPolicy* inner_ = nullptr;
  Mutex mu_;
  std::vector<skills::TrajectoryEntry> entries_ GUARDED_BY(mu_);
  // Seen by Publish during the current step, appended after its results.
  std::vector<skills::TrajectoryEntry> during_step_ GUARDED_BY(mu_);
  int step_ GUARDED_BY(mu_) = 0;
  bool edited_ GUARDED_BY(mu_) = false;  // the step's StepFinished said it kept an edit
};

}  // namespace tandem::agent
