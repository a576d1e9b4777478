// Resolution: from a role or a model name to everything a ModelClient needs.
//
// The API key is read from the environment here, at the last moment, and
// registered with tandem::Redactor before it is returned, so no later error
// message can carry it. Errors name what is missing, never a key's value:
//   "role executor: model 'fast' uses provider 'cerebras' whose key env var
//    CEREBRAS_API_KEY is not set"
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/providers/model_client.h"

namespace tandem::config {

struct ResolvedModel {
  std::string model_name;                // the key under [models]
  ModelConfig model;                     // model.id is what goes on the wire
  providers::ProviderSettings provider;  // api_key filled in (empty for keyless providers)
  providers::ModelOptions options;       // fast_mode
};

// What to do when no model is configured at all (part of ResolveRole's
// error for an unset role).
inline constexpr std::string_view kNoModelHint =
    "export an API key (CEREBRAS_API_KEY, GROQ_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY), or "
    "start a local OpenAI-compatible server";

// Errors: kNotFound (no such model or provider), kFailedPrecondition (the
// role is unset, or the provider's key variable is not set).
Result<ResolvedModel> ResolveModel(const Config& config, const Env& env,
                                   std::string_view model_name);
// A role naming a pool resolves to the pool's first member within its price
// limits, named after the pool (model_name = the pool's name); ResolvePool
// gives all of them.
Result<ResolvedModel> ResolveRole(const Config& config, const Env& env, Role role);

// The members of pool `pool_name` within its price limits, in the pool's
// order, each resolved as ResolveModel does. Errors: kNotFound (no such
// pool), or the first member's error with the pool named.
Result<std::vector<ResolvedModel>> ResolvePool(const Config& config, const Env& env,
                                               std::string_view pool_name);

}  // namespace tandem::config
