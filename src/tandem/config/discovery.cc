#include "tandem/config/discovery.h"

#include <algorithm>
#include <optional>

#include "tandem/config/builtins.h"

namespace tandem::config {
namespace {

// Built-in model names in order of preference for each role.
constexpr std::string_view kFastModels[] = {"cerebras-gpt-oss", "groq-gpt-oss"};
constexpr std::string_view kSlowExecutorModels[] = {"claude-sonnet", "openai-gpt"};
constexpr std::string_view kPlannerModels[] = {"claude-opus", "openai-gpt"};

struct Pick {
  std::string model;
  std::string why;
};

class Discoverer {
 public:
  Discoverer(LoadedConfig& loaded, const Env& env) : loaded_(loaded), env_(env) {}

  // The first of `names` whose provider's key is present.
  std::optional<Pick> FirstUsable(std::span<const std::string_view> names) const {
    for (std::string_view name : names) {
      auto model = loaded_.config.models.find(name);
      if (model == loaded_.config.models.end()) continue;
      auto provider = loaded_.config.providers.find(model->second.provider);
      if (provider == loaded_.config.providers.end()) continue;
      const std::string& key_env = provider->second.api_key_env;
      if (!key_env.empty() && EnvValue(env_, key_env).empty()) continue;
      return Pick{std::string(name), key_env.empty() ? "no key needed" : key_env + " is set"};
    }
    return std::nullopt;
  }

  // Adds a provider and models for a server that answered.
  std::optional<Pick> AddLocalServer(const LocalServer& server, const ProbeResult& result) {
    Config& config = loaded_.config;
    std::string name(server.name);
    if (!config.providers.count(name)) {
      ProviderConfig& provider = config.providers[name];
      provider.settings.name = name;
      provider.settings.wire = providers::WireFormat::kOpenAI;
      provider.settings.base_url = server.base_url;
      // Local servers accept max_tokens; max_completion_tokens support varies.
      provider.settings.send_max_tokens = true;
      loaded_.origins.emplace("providers." + name, Discovered(result));
    }
    std::optional<Pick> first;
    for (const std::string& id : result.model_ids) {
      std::string model_name = name + "/" + id;
      if (!config.models.count(model_name)) {
        ModelConfig& model = config.models[model_name];
        model.provider = name;
        model.id = id;
      }
      if (!first) first = Pick{model_name, result.label + " at " + result.base_url};
    }
    return first;
  }

  static Origin Discovered(const ProbeResult& result) {
    return Origin{"discovered (" + result.label + " at " + result.base_url + ")", 0};
  }

  void Assign(Role role, const Pick& pick) {
    loaded_.config.roles.Get(role) = pick.model;
    loaded_.origins["roles." + std::string(RoleName(role))] =
        Origin{"discovered (" + pick.why + ")", 0};
  }

 private:
  LoadedConfig& loaded_;
  const Env& env_;
};

}  // namespace

DiscoveryReport Discover(LoadedConfig& loaded, const Env& env, const ProbeFn& probe,
                         DiscoveryOptions options) {
  DiscoveryReport report;
  Config& config = loaded.config;
  for (const auto& [name, provider] : config.providers) {
    const std::string& key_env = provider.api_key_env;
    if (key_env.empty() || EnvValue(env, key_env).empty()) continue;
    if (std::find(report.keys_present.begin(), report.keys_present.end(), key_env) ==
        report.keys_present.end()) {
      report.keys_present.push_back(key_env);
    }
  }

  Discoverer discoverer(loaded, env);
  std::optional<Pick> fast = discoverer.FirstUsable(kFastModels);
  // Local servers can only change the outcome when the executor is open and
  // no fast cloud provider is available; probe otherwise only when asked.
  bool executor_open = config.roles.executor.empty();
  std::optional<Pick> local;
  if (probe && (options.always_probe || (executor_open && !fast))) {
    report.probed = true;
    for (const LocalServer& server : LocalServers()) {
      ProbeResult result{std::string(server.name),
                         std::string(server.label),
                         std::string(server.base_url),
                         false,
                         {},
                         {}};
      Result<std::vector<std::string>> ids = probe(result.base_url);
      if (ids) {
        result.found = true;
        result.model_ids = *ids;
        std::optional<Pick> first = discoverer.AddLocalServer(server, result);
        if (!local) local = first;
      } else {
        result.error = ids.error().message();
      }
      report.probes.push_back(std::move(result));
    }
  }

  if (executor_open) {
    std::optional<Pick> pick = fast    ? fast
                               : local ? local
                                       : discoverer.FirstUsable(kSlowExecutorModels);
    if (pick) discoverer.Assign(Role::kExecutor, *pick);
  }
  if (config.roles.planner.empty()) {
    std::optional<Pick> pick = discoverer.FirstUsable(kPlannerModels);
    if (!pick && !config.roles.executor.empty())
      pick = Pick{config.roles.executor, "same as executor"};
    if (pick) discoverer.Assign(Role::kPlanner, *pick);
  }
  if (config.roles.reviewer.empty() && !config.roles.planner.empty()) {
    discoverer.Assign(Role::kReviewer, Pick{config.roles.planner, "same as planner"});
  }
  return report;
}

}  // namespace tandem::config
