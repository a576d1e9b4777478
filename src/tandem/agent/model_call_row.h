// ModelCallRow: the ledger row of one model call, from its outcome.
//
// The executor's steps, the planner and the slow tier's command review all
// record their calls the same way; this is that one mapping.
#pragma once

#include <optional>
#include <string>

#include "tandem/base/status.h"
#include "tandem/ledger/records.h"
#include "tandem/protocol/model.h"

namespace tandem::agent {

struct ModelCallWho {
  std::string run_id;
  std::optional<ledger::StepId> step_id;
  std::string role;  // also the tier column (with "+fast_mode" for a fast-mode model)
  std::string provider;
  // The model id sent to the provider (ModelConfig::id), not the key under
  // [models]: a discovered model's key is "provider/id", and `tandem stats`
  // names a model "provider/model".
  std::string model;
  // The model runs in fast mode (ModelConfig::fast_mode, Anthropic's
  // speed:"fast"): its own tier, "<role>+fast_mode", with its own prices.
  bool fast_mode = false;
};

// The tier of a call by `role`: the role, or "<role>+fast_mode" for a
// fast-mode model (priced apart; `tandem stats` shows it as its own tier).
std::string FastModeTier(const std::string& role, bool fast_mode);

// A successful call: tokens, cost, timings and retries from `reply`; the
// provider and model of the pool member that served it when a pool routed
// it (reply.served_by), else `who`'s.
ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelResponse& reply,
                                     double cost_usd);

// A failed call: only who made it and the error's kind.
ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelError& error);

}  // namespace tandem::agent
