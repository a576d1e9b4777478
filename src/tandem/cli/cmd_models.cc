// tandem models [--json]: the configured models with their prices, roles
// and pools, each model's measured speed from the ledger (the window routing
// uses: providers/routing.h), and what each role would pick now for a step
// of its typical size (docs/METRICS.md).
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "tandem/cli/command.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/providers/routing.h"

namespace tandem::cli {
namespace {

using nlohmann::json;

struct ModelsOptions {
  std::vector<std::string> overrides;
  bool json = false;
};

// What a role would pick now.
struct RolePick {
  config::Role role = config::Role::kExecutor;
  std::string name;  // the model or pool the role names ("" when unset)
  bool pool = false;
  int64_t prompt_tokens = 0;  // the role's mean recent prompt (uncached everywhere)
  int64_t output_tokens = 0;  // the role's expected output (SpeedBook::ExpectedOutput)
  std::vector<std::string> members;                  // the pool's within its limits, or the model
  std::vector<std::optional<double>> predicted_ms;   // per member; nullopt: unmeasured
  std::string pick;                                  // the member a step would go to now
};

std::string Key(const config::ModelConfig& model) { return model.provider + "/" + model.id; }

std::string Rate(double per_s) {
  return per_s > 0 ? fmt::format("{:.0f}", per_s) : std::string("-");
}

int RunModels(const std::string& repo_root, const ModelsOptions& options) {
  auto runtime = LoadRuntime(repo_root, {options.overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  const config::Config& cfg = (*runtime)->loaded.config;
  auto rows = ReadSpeedRows((*runtime)->repo_root);
  if (!rows) {
    fmt::print(stderr, "tandem: ledger: {}\n", rows.error().message());
    return kExitInternal;
  }
  providers::SpeedBook book;
  SeedSpeedBook(book, *rows);
  std::map<std::string, std::pair<int64_t, int64_t>> prompts;  // role -> (sum, count)
  for (const ledger::ModelSpeedRow& row : *rows) {
    prompts[row.role].first += row.tokens_in;
    prompts[row.role].second += 1;
  }

  std::vector<RolePick> picks;
  for (config::Role role : config::kAllRoles) {
    RolePick pick;
    pick.role = role;
    pick.name = cfg.roles.Get(role);
    pick.pool = cfg.pools.count(pick.name) > 0;
    std::string role_name(config::RoleName(role));
    auto prompt = prompts.find(role_name);
    pick.prompt_tokens = prompt == prompts.end() ? 0 : prompt->second.first / prompt->second.second;
    pick.output_tokens = book.ExpectedOutput(role_name);
    std::vector<providers::PoolMember> members;
    if (pick.pool) {
      const config::PoolConfig& pool = cfg.pools.at(pick.name);
      for (const std::string& member : pool.models) {
        auto model = cfg.models.find(member);
        if (model == cfg.models.end() || !config::WithinPriceLimits(pool, model->second)) continue;
        pick.members.push_back(member);
      }
    } else if (cfg.models.count(pick.name)) {
      pick.members.push_back(pick.name);
    }
    for (const std::string& member : pick.members) {
      const config::ModelConfig& model = cfg.models.at(member);
      providers::PoolMember m;
      m.identity.model_name = member;
      m.identity.provider = model.provider;
      m.identity.model_id = model.id;
      members.push_back(m);
      auto estimate = book.Estimate(Key(model));
      pick.predicted_ms.push_back(
          estimate ? std::optional<double>(estimate->PredictMs(pick.prompt_tokens, pick.output_tokens))
                   : std::nullopt);
    }
    if (!members.empty()) {
      providers::RouteChoice choice = providers::ChooseMember(
          book, members, std::vector<int64_t>(members.size(), pick.prompt_tokens),
          pick.output_tokens, std::vector<bool>(members.size(), false),
          std::chrono::steady_clock::now());
      pick.pick = pick.members[choice.member];
    }
    picks.push_back(std::move(pick));
  }

  if (options.json) {
    json out = {{"models", json::array()}, {"pools", json::array()}, {"roles", json::array()}};
    for (const auto& [name, model] : cfg.models) {
      json roles = json::array();
      for (const RolePick& pick : picks) {
        if (std::find(pick.members.begin(), pick.members.end(), name) != pick.members.end()) {
          roles.push_back(config::RoleName(pick.role));
        }
      }
      json measured = nullptr;
      if (auto e = book.Estimate(Key(model))) {
        measured = {{"samples", e->samples},
                    {"median_ttft_ms", e->median_ttft_ms},
                    {"ttft_base_ms", e->ttft_base_ms},
                    {"prefill_tokens_per_s", e->PrefillTokensPerS()},
                    {"decode_tokens_per_s", e->DecodeTokensPerS()}};
      }
      out["models"].push_back({{"name", name},
                               {"provider", model.provider},
                               {"id", model.id},
                               {"price_input", model.price_input},
                               {"price_output", model.price_output},
                               {"price_cached_input", model.price_cached_input},
                               {"fast_mode", model.fast_mode},
                               {"roles", roles},
                               {"measured", measured}});
    }
    for (const auto& [name, pool] : cfg.pools) {
      out["pools"].push_back({{"name", name},
                              {"models", pool.models},
                              {"max_price_input", pool.max_price_input},
                              {"max_price_output", pool.max_price_output}});
    }
    for (const RolePick& pick : picks) {
      json members = json::array();
      for (size_t i = 0; i < pick.members.size(); ++i) {
        members.push_back({{"model", pick.members[i]},
                           {"predicted_ms", pick.predicted_ms[i] ? json(*pick.predicted_ms[i])
                                                                 : json(nullptr)}});
      }
      out["roles"].push_back({{"role", config::RoleName(pick.role)},
                              {"name", pick.name},
                              {"pool", pick.pool},
                              {"prompt_tokens", pick.prompt_tokens},
                              {"output_tokens", pick.output_tokens},
                              {"members", members},
                              {"pick", pick.pick}});
    }
    fmt::print("{}\n", out.dump());
    return kExitSuccess;
  }

  fmt::print("{:<20} {:<12} {:<28} {:>7} {:>7} {:>7}  {:>5} {:>8} {:>10} {:>9}  {}\n", "model",
             "provider", "id", "$/M in", "$/M out", "$/M hit", "calls", "ttft ms",
             "prefill/s", "decode/s", "roles");
  for (const auto& [name, model] : cfg.models) {
    std::string roles;
    for (const RolePick& pick : picks) {
      if (std::find(pick.members.begin(), pick.members.end(), name) == pick.members.end()) continue;
      roles += (roles.empty() ? "" : ",") + std::string(config::RoleName(pick.role));
      if (pick.pool) roles += "(" + pick.name + ")";
    }
    auto e = book.Estimate(Key(model));
    fmt::print("{:<20} {:<12} {:<28} {:>7.2f} {:>7.2f} {:>7.2f}  {:>5} {:>8} {:>10} {:>9}  {}{}\n",
               name, model.provider, model.id, model.price_input, model.price_output,
               model.price_cached_input, e ? std::to_string(e->samples) : "-",
               e ? fmt::format("{:.0f}", e->median_ttft_ms) : "-",
               e ? Rate(e->PrefillTokensPerS()) : "-", e ? Rate(e->DecodeTokensPerS()) : "-",
               roles, model.fast_mode ? " [fast mode]" : "");
  }
  if (!cfg.pools.empty()) {
    fmt::print("\npools:\n");
    for (const auto& [name, pool] : cfg.pools) {
      std::string members;
      for (const std::string& m : pool.models) members += (members.empty() ? "" : ", ") + m;
      fmt::print("  {:<16} {}{}{}\n", name, members,
                 pool.max_price_input > 0 ? fmt::format(" · max ${}/M in", pool.max_price_input) : "",
                 pool.max_price_output > 0 ? fmt::format(" · max ${}/M out", pool.max_price_output)
                                           : "");
    }
  }
  fmt::print("\nroles (the pick for a step of the role's recent size):\n");
  for (const RolePick& pick : picks) {
    if (pick.name.empty()) {
      fmt::print("  {:<9} (not set)\n", config::RoleName(pick.role));
      continue;
    }
    std::string predictions;
    for (size_t i = 0; i < pick.members.size(); ++i) {
      predictions += fmt::format("{}{} {}", predictions.empty() ? "" : ", ", pick.members[i],
                                 pick.predicted_ms[i]
                                     ? fmt::format("{:.0f} ms", *pick.predicted_ms[i])
                                     : std::string("unmeasured"));
    }
    fmt::print("  {:<9} {:<16} -> {:<16} ({} prompt / {} output tokens: {})\n",
               config::RoleName(pick.role), pick.name, pick.pick, pick.prompt_tokens,
               pick.output_tokens, predictions);
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupModels(CLI::App& app) {
  auto options = std::make_shared<ModelsOptions>();
  app.add_option("--set", options->overrides, "Override a config key");
  app.add_flag("--json", options->json, "Print one JSON object (docs/METRICS.md)");
  return [options](const Invocation& in) { return RunModels(in.repo_root, *options); };
}

}  // namespace tandem::cli
