#include "tandem/protocol/event.h"
#include "tandem/base/overloaded.h"

#include "tandem/protocol/event_json.h"

namespace tandem::protocol {
const char* EventTypeName(const EventPayload& payload) {
  return std::visit(
      Overloaded{
          [](const RunStarted&) { return "run_started"; },
          [](const StepStarted&) { return "step_started"; },
          [](const ModelDelta&) { return "model_delta"; },
          [](const ModelRestarted&) { return "model_restarted"; },
          [](const ModelCallFinished&) { return "model_call_finished"; },
          [](const ToolStarted&) { return "tool_started"; },
          [](const ToolFinished&) { return "tool_finished"; },
          [](const CheckpointTaken&) { return "checkpoint_taken"; },
          [](const GateFinished&) { return "gate_finished"; },
          [](const StepRolledBack&) { return "step_rolled_back"; },
          [](const StepFinished&) { return "step_finished"; },
          [](const Notice&) { return "notice"; },
          [](const RunFinished&) { return "run_finished"; },
          [](const TaskStarted&) { return "task_started"; },
          [](const TaskFinished&) { return "task_finished"; },
          [](const ApprovalRequested&) { return "approval_requested"; },
          [](const ApprovalDecided&) { return "approval_decided"; },
          [](const Escalated&) { return "escalated"; },
          [](const SteerDelivered&) { return "steer_delivered"; },
          [](const ReviewFinished&) { return "review_finished"; },
      },
      payload);
}

nlohmann::json UsageToJson(const Usage& u) {
  return {{"input_tokens", u.input_tokens},
          {"output_tokens", u.output_tokens},
          {"cached_input_tokens", u.cached_input_tokens},
          {"cache_write_tokens", u.cache_write_tokens}};
}

nlohmann::json EventToJson(const Event& event) {
  nlohmann::json j;
  j["type"] = EventTypeName(event.payload);
  j["at_ms"] = event.at_ms;
  j["run"] = event.scope.run_id;
  if (!event.scope.task_id.empty()) j["task"] = event.scope.task_id;
  if (!event.scope.agent_id.empty()) j["agent"] = event.scope.agent_id;
  std::visit(
      Overloaded{
          [&](const RunStarted& e) {
            j["kind"] = e.kind;
            j["goal"] = e.goal;
            j["repo"] = e.repo;
            j["model"] = e.model;
            j["gates_source"] = e.gates_source;
            j["first_request_tokens"] = e.first_request_tokens;
          },
          [&](const StepStarted& e) {
            j["step"] = e.step;
            j["attempt"] = e.attempt;
          },
          [&](const ModelDelta& e) { j["text"] = e.text; },
          [&](const ModelRestarted& e) {
            j["reason"] = e.reason;
            j["attempt"] = e.attempt;
            j["delay_ms"] = e.delay_ms;
          },
          [&](const ModelCallFinished& e) {
            j["model"] = e.model;
            j["usage"] = UsageToJson(e.usage);
            j["ttft_ms"] = e.timings.time_to_first_token_ms;
            j["duration_ms"] = e.timings.total_ms;
            j["tokens_per_s"] = e.timings.output_tokens_per_s;
            j["cost_usd"] = e.cost_usd;
            j["retries"] = e.retries;
          },
          [&](const ToolStarted& e) {
            j["id"] = e.id;
            j["name"] = e.name;
            j["summary"] = e.summary;
          },
          [&](const ToolFinished& e) {
            j["id"] = e.id;
            j["name"] = e.name;
            j["outcome"] = std::string(Name(e.outcome));
            j["detail"] = e.detail;
            j["duration_ms"] = e.duration_ms;
          },
          [&](const CheckpointTaken& e) {
            j["checkpoint"] = e.checkpoint;
            j["label"] = e.label;
            j["files_changed"] = e.files_changed;
            j["duration_ms"] = e.duration_ms;
          },
          [&](const GateFinished& e) {
            j["gate"] = e.gate;
            j["verdict"] = std::string(Name(e.verdict));
            j["cached"] = e.cached;
            j["duration_ms"] = e.duration_ms;
            if (!e.excerpt.empty()) j["excerpt"] = e.excerpt;
          },
          [&](const StepRolledBack& e) {
            j["step"] = e.step;
            j["reason"] = e.reason;
            j["retries_left"] = e.retries_left;
          },
          [&](const StepFinished& e) {
            j["step"] = e.step;
            j["edited"] = e.edited;
            j["lines_changed"] = e.lines_changed;
            j["files_changed"] = e.files_changed;
          },
          [&](const Notice& e) {
            j["level"] = std::string(Name(e.level));
            j["text"] = e.text;
          },
          [&](const RunFinished& e) {
            j["outcome"] = std::string(Name(e.outcome));
            j["summary"] = e.summary;
            j["steps"] = e.steps;
            j["retries"] = e.retries;
            j["usage"] = UsageToJson(e.usage);
            j["cost_usd"] = e.cost_usd;
            j["wall_ms"] = e.wall_ms;
            j["model_ms"] = e.model_ms;
            j["tool_ms"] = e.tool_ms;
            j["gate_ms"] = e.gate_ms;
            j["harness_ms"] = e.harness_ms;
            j["human_ms"] = e.human_ms;
            if (!e.best_attempt_ref.empty()) j["best_attempt_ref"] = e.best_attempt_ref;
          },
          [&](const TaskStarted& e) {
            j["title"] = e.title;
            j["tier"] = e.tier;
            j["model"] = e.model;
            j["attempt"] = e.attempt;
          },
          [&](const TaskFinished& e) {
            j["state"] = std::string(Name(e.state));
            j["summary"] = e.summary;
            j["retries"] = e.retries;
          },
          [&](const ApprovalRequested& e) {
            if (e.approval_id != 0) j["approval_id"] = e.approval_id;
            j["what"] = e.what;
            j["why"] = e.why;
            if (!e.command.empty()) j["command"] = e.command;
          },
          [&](const ApprovalDecided& e) {
            if (e.approval_id != 0) j["approval_id"] = e.approval_id;
            j["decision"] = std::string(Name(e.decision));
            j["decided_by"] = std::string(Name(e.decided_by));
            j["waited_ms"] = e.waited_ms;
            j["reason"] = e.reason;
            if (!e.command.empty()) j["command"] = e.command;
          },
          [&](const Escalated& e) {
            j["action"] = std::string(Name(e.action));
            j["from_tier"] = e.from_tier;
            j["to_tier"] = e.to_tier;
            j["reason"] = e.reason;
          },
          [&](const SteerDelivered& e) {
            j["note"] = e.note;
            j["where"] = e.where;
          },
          [&](const ReviewFinished& e) {
            j["review"] = e.review;
            j["verdict"] = std::string(Name(e.verdict));
            j["reasons"] = e.reasons;
            j["model"] = e.model;
            j["usage"] = UsageToJson(e.usage);
            j["cost_usd"] = e.cost_usd;
            j["wait_ms"] = e.wait_ms;
          },
      },
      event.payload);
  return j;
}

}  // namespace tandem::protocol
