#include "tandem/agent/trajectory_recorder.h"

#include "tandem/base/overloaded.h"

namespace tandem::agent {

TrajectoryRecorder::TrajectoryRecorder(protocol::EventSink* next, workspace::Workspace* ws)
    : next_(next), ws_(ws) {}

std::optional<std::string> TrajectoryRecorder::BeginStep(int step) {
  {
    MutexLock lock(mu_);
    step_ = step;
    edited_ = false;
    during_step_.clear();
  }
  return inner_->BeginStep(step);
}

void TrajectoryRecorder::OnReply(const protocol::ModelResponse& reply) {
  skills::TrajectoryEntry e;
  e.kind = skills::EntryKind::kAssistant;
  e.text = reply.text;
  for (const protocol::ToolCall& c : reply.tool_calls) {
    e.calls.push_back({c.id, c.name, c.arguments_json});
  }
  {
    MutexLock lock(mu_);
    e.step = step_;
    entries_.push_back(std::move(e));
  }
  inner_->OnReply(reply);
}

StepOutcome TrajectoryRecorder::RunStep(int step, const std::vector<protocol::ToolCall>& calls) {
  std::optional<workspace::CheckpointId> before = ws_->last_checkpoint();
  StepOutcome outcome = inner_->RunStep(step, calls);
  EndStep(step, outcome, calls);
  std::optional<workspace::CheckpointId> after = ws_->last_checkpoint();
  bool edited;
  {
    MutexLock lock(mu_);
    edited = edited_;
  }
  if (edited && before && after && !(*before == *after)) {
    // A patch that cannot be made is left out: the trajectory is a record,
    // never a reason to fail the task.
    if (auto patch = ws_->Patch(*before, *after); patch && !patch->empty()) {
      skills::TrajectoryEntry e;
      e.kind = skills::EntryKind::kDiff;
      e.step = step;
      e.text = std::move(*patch);
      MutexLock lock(mu_);
      entries_.push_back(std::move(e));
    }
  }
  return outcome;
}

StepOutcome TrajectoryRecorder::OnTextOnly(int step, const std::string& text) {
  StepOutcome outcome = inner_->OnTextOnly(step, text);
  EndStep(step, outcome, {});
  return outcome;
}

void TrajectoryRecorder::EndStep(int step, const StepOutcome& outcome,
                                 const std::vector<protocol::ToolCall>& calls) {
  MutexLock lock(mu_);
  for (const protocol::Message& m : outcome.tool_results) {
    skills::TrajectoryEntry e;
    e.kind = skills::EntryKind::kToolResult;
    e.step = step;
    e.id = m.tool_call_id;
    for (const protocol::ToolCall& c : calls) {
      if (c.id == m.tool_call_id) e.name = c.name;
    }
    e.error = m.is_error;
    e.text = m.text;
    entries_.push_back(std::move(e));
  }
  for (skills::TrajectoryEntry& e : during_step_) entries_.push_back(std::move(e));
  during_step_.clear();
  if (!outcome.feedback.empty()) {
    skills::TrajectoryEntry e;
    e.kind = skills::EntryKind::kFeedback;
    e.step = step;
    e.text = outcome.feedback;
    entries_.push_back(std::move(e));
  }
}

void TrajectoryRecorder::Publish(const protocol::Event& event) {
  std::visit(Overloaded{
                 [&](const protocol::GateFinished& g) {
                   skills::TrajectoryEntry e;
                   e.kind = skills::EntryKind::kGate;
                   e.name = g.gate;
                   e.verdict = g.verdict;
                   e.cached = g.cached;
                   e.text = g.excerpt;
                   MutexLock lock(mu_);
                   e.step = step_;
                   during_step_.push_back(std::move(e));
                 },
                 [&](const protocol::StepRolledBack& r) {
                   skills::TrajectoryEntry e;
                   e.kind = skills::EntryKind::kRollback;
                   e.step = r.step;
                   e.text = r.reason;
                   MutexLock lock(mu_);
                   during_step_.push_back(std::move(e));
                 },
                 [&](const protocol::StepFinished& f) {
                   MutexLock lock(mu_);
                   edited_ = edited_ || f.edited;
                 },
                 [](const auto&) {},
             },
             event.payload);
  next_->Publish(event);
}

std::vector<skills::TrajectoryEntry> TrajectoryRecorder::TakeEntries() {
  MutexLock lock(mu_);
  for (skills::TrajectoryEntry& e : during_step_) entries_.push_back(std::move(e));
  during_step_.clear();
  return std::move(entries_);
}

}  // namespace tandem::agent
