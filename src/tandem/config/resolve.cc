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
  Result<ResolvedModel> resolved = ResolveModel(config, env, model);
  if (!resolved) return resolved.error().WithContext(context);
  return resolved;
}

}  // namespace tandem::config
