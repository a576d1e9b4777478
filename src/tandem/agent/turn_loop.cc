#include "tandem/agent/turn_loop.h"

#include "tandem/agent/compaction.h"

namespace tandem::agent {

LoopResult RunTurnLoop(providers::ModelClient& client, protocol::ModelRequest request,
                       StepPolicy& policy, providers::StreamObserver* observer,
                       int64_t context_tokens) {
  LoopResult result;
  for (int step = 1;; ++step) {
    if (std::optional<std::string> why = policy.BeginStep(step)) {
      result.summary = *why;
      break;
    }
    if (context_tokens > 0) CompactHistory(request.messages, context_tokens);
    auto reply = client.Complete(request, observer);
    if (!reply) {
      result.model_error = reply.error();
      result.summary = reply.error().message;
      break;
    }
    policy.OnReply(*reply);
    result.steps = step;
    protocol::Message assistant{protocol::Role::kAssistant, reply->text, reply->tool_calls, {}, false};
    request.messages.push_back(std::move(assistant));

    StepOutcome outcome = reply->tool_calls.empty() ? policy.OnTextOnly(step, reply->text)
                                                    : policy.RunStep(step, reply->tool_calls);
    for (auto& message : outcome.tool_results) request.messages.push_back(std::move(message));
    if (!outcome.feedback.empty()) {
      // After tool results the feedback rides on the last one, so both wire
      // formats see one well-formed turn; otherwise it is a user message.
      if (!outcome.tool_results.empty()) {
        request.messages.back().text += "\n\n" + outcome.feedback;
      } else {
        request.messages.push_back(protocol::Message::User(outcome.feedback));
      }
    }
    if (outcome.state != StepState::kContinue) {
      result.state = outcome.state;
      result.summary = outcome.summary;
      break;
    }
  }
  result.history = std::move(request.messages);
  return result;
}

}  // namespace tandem::agent
