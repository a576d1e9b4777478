#include "tandem/config/resolve.h"

#include "tandem/base/redact.h"

namespace tandem::config {

Result<ResolvedModel> ResolveModel(const Config& config, const Env& env,
                                   std::string_view model_name) {
  auto model = config.models.find(model_name);
  if (model == config.models.end()) {
    std::string known;
    for (const auto& [name, unused] : config.models) known += (known.empty() ? "" : ", ") + name;
    return NotFound("model '" + std::string(model_name) + "' is not defined (defined: " + known +
                    ")");
  }
  const ModelConfig& m = model->second;
  auto provider = config.providers.find(m.provider);
  if (provider == config.providers.end()) {
    return NotFound("model '" + model->first + "' uses provider '" + m.provider +
                    "', which is not defined");
  }
  ResolvedModel out{model->first, m, provider->second.settings, {}};
  out.options.fast_mode = m.fast_mode;
  const std::string& key_env = provider->second.api_key_env;
  if (!key_env.empty()) {
    std::string_view key = EnvValue(env, key_env);
    if (key.empty()) {
      return FailedPrecondition("model '" + model->first + "' uses provider '" + m.provider +
                                "' whose key env var " + key_env + " is not set");
    }
    Redactor::Register(key);
    out.provider.api_key = std::string(key);
  }
  return out;
}

Result<ResolvedModel> ResolveRole(const Config& config, const Env& env, Role role) {
  std::string context = "role " + std::string(RoleName(role));
  const std::string& model = config.roles.Get(role);
  if (model.empty()) {
    return FailedPrecondition(context + ": no model is configured; set roles." +
                              std::string(RoleName(role)) + " in a config file, or " +
                              std::string(kNoModelHint));
  }
  if (config.pools.count(model)) {
    Result<std::vector<ResolvedModel>> members = ResolvePool(config, env, model);
    if (!members) return members.error().WithContext(context);
    ResolvedModel first = std::move(members->front());
    first.model_name = model;
    return first;
  }
  Result<ResolvedModel> resolved = ResolveModel(config, env, model);
  if (!resolved) return resolved.error().WithContext(context);
  return resolved;
}

Result<std::vector<ResolvedModel>> ResolvePool(const Config& config, const Env& env,
                                               std::string_view pool_name) {
  auto pool = config.pools.find(pool_name);
  if (pool == config.pools.end()) {
    return NotFound("pool '" + std::string(pool_name) + "' is not defined");
  }
  std::vector<ResolvedModel> members;
  for (const std::string& name : pool->second.models) {
    auto model = config.models.find(name);
    if (model != config.models.end() && !WithinPriceLimits(pool->second, model->second)) continue;
    Result<ResolvedModel> resolved = ResolveModel(config, env, name);
    if (!resolved) return resolved.error().WithContext("pool " + pool->first);
    members.push_back(std::move(*resolved));
  }
  if (members.empty()) {
    return FailedPrecondition("pool " + pool->first +
                              ": no model is within max_price_input / max_price_output");
  }
  return members;
}

}  // namespace tandem::config
