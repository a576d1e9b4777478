// The agent's turn loop: ask the model, run the tools it called, append the
// results, repeat. It is deliberately small; limits, checkpoints,
// verification, rollback and retries are policy supplied by StepPolicy
// (verified_step.h), wrapped around the loop rather than woven into it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/protocol/model.h"
#include "tandem/providers/model_client.h"

namespace tandem::agent {

// What a step decided.
enum class StepState {
  kContinue,  // ask the model again
  kDone,      // the task is finished and verified
  kFailed,    // the task cannot succeed (retry budget spent)
  kStopped,   // interrupted or a limit was hit
};

struct StepOutcome {
  StepState state = StepState::kContinue;
  std::vector<protocol::Message> tool_results;  // one per tool call, in call order
  std::string feedback;  // what the model must know next (a rollback, a failed gate)
  std::string summary;   // for kDone/kFailed/kStopped: why, for the person
};

class StepPolicy {
 public:
  virtual ~StepPolicy() = default;
  // Before each step's model call: a reason to stop (limit hit,
  // interrupted), or nullopt to go on.
  virtual std::optional<std::string> BeginStep(int step) = 0;
  // Accounting for every reply (tokens, cost, time).
  virtual void OnReply(const protocol::ModelResponse& reply) = 0;
  // Runs the tool calls of step `step` (checkpoint, tools, guardrails, gates).
  virtual StepOutcome RunStep(int step, const std::vector<protocol::ToolCall>& calls) = 0;
  // The model replied with text and no tool call.
  virtual StepOutcome OnTextOnly(int step, const std::string& text) = 0;
};

struct LoopResult {
  StepState state = StepState::kStopped;
  std::string summary;
  int steps = 0;
  std::optional<protocol::ModelError> model_error;  // set when the provider failed
  std::vector<protocol::Message> history;
};

// REQUIRES: `request` holds the system prompt, tools and the first user message.
// `context_tokens` > 0 compacts the history to that budget before each call
// (compaction.h); the stable prefix is never touched.
LoopResult RunTurnLoop(providers::ModelClient& client, protocol::ModelRequest request,
                       StepPolicy& policy, providers::StreamObserver* observer,
                       int64_t context_tokens = 0);

}  // namespace tandem::agent
