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
  std::string role;  // also the tier column
  std::string provider;
  // The model id sent to the provider (ModelConfig::id), not the key under
  // [models]: a discovered model's key is "provider/id", and `tandem stats`
  // names a model "provider/model".
  std::string model;
};

// A successful call: tokens, cost, timings and retries from `reply`.
ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelResponse& reply,
                                     double cost_usd);

// A failed call: only who made it and the error's kind.
ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelError& error);

}  // namespace tandem::agent
