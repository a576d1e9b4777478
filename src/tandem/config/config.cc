#include "tandem/config/config.h"

#include <utility>

#include "tandem/config/builtins.h"

namespace tandem::config {
namespace {

// One table per enum keeps each spelling in a single place.
template <typename E>
using Names = std::pair<E, std::string_view>;

constexpr Names<providers::WireFormat> kWireNames[] = {
    {providers::WireFormat::kOpenAI, "openai"}, {providers::WireFormat::kAnthropic, "anthropic"}};
constexpr Names<CommandPolicy> kCommandPolicyNames[] = {
    {CommandPolicy::kRefuseRisky, "refuse-risky"}, {CommandPolicy::kAllowAll, "allow-all"}};
constexpr Names<SandboxMode> kSandboxModeNames[] = {
    {SandboxMode::kAuto, "auto"}, {SandboxMode::kBwrap, "bwrap"}, {SandboxMode::kNone, "none"}};
constexpr Names<OnUnavailable> kOnUnavailableNames[] = {
    {OnUnavailable::kRefuse, "refuse"}, {OnUnavailable::kRunUnsandboxed, "run-unsandboxed"}};
constexpr Names<ApprovalPolicy> kApprovalNames[] = {{ApprovalPolicy::kAsk, "ask"},
                                                    {ApprovalPolicy::kDeny, "deny"},
                                                    {ApprovalPolicy::kApprove, "approve"}};
constexpr Names<CaptureMode> kCaptureNames[] = {
    {CaptureMode::kOff, "off"}, {CaptureMode::kAsk, "ask"}, {CaptureMode::kAuto, "auto"}};
constexpr Names<Role> kRoleNames[] = {
    {Role::kPlanner, "planner"}, {Role::kExecutor, "executor"}, {Role::kReviewer, "reviewer"}};

template <typename E, size_t N>
std::string_view NameOf(const Names<E> (&table)[N], E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const Names<E> (&table)[N], std::string_view text) {
  for (const auto& [v, name] : table) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view EnvValue(const Env& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view RoleName(Role role) { return NameOf(kRoleNames, role); }
std::optional<Role> ParseRole(std::string_view name) { return ValueOf(kRoleNames, name); }

std::string& Roles::Get(Role role) {
  switch (role) {
    case Role::kPlanner:
      return planner;
    case Role::kExecutor:
      return executor;
    case Role::kReviewer:
      return reviewer;
  }
  return reviewer;
}

const std::string& Roles::Get(Role role) const { return const_cast<Roles*>(this)->Get(role); }

std::vector<std::string> DefaultHomeDirs() {
  return {".cargo", ".rustup", "go",     ".m2",    ".gradle", ".npm",       ".nvm",      ".pyenv",
          ".rbenv", ".sdkman", ".volta", ".deno",  ".bun",    ".dotnet",    ".local/bin", ".local/lib"};
}

Config DefaultConfig() {
  Config config;
  for (const BuiltinProvider& b : BuiltinProviders()) {
    ProviderConfig& p = config.providers[std::string(b.name)];
    p.settings.name = b.name;
    p.settings.wire = b.wire;
    p.settings.base_url = b.base_url;
    p.api_key_env = b.api_key_env;
  }
  for (const BuiltinModel& b : BuiltinModels()) {
    ModelConfig& m = config.models[std::string(b.name)];
    m.provider = b.provider;
    m.id = b.id;
    m.context_window = b.context_window;
    m.price_input = b.price_input;
    m.price_output = b.price_output;
    m.price_cached_input = b.price_cached_input;
    m.max_output_tokens = b.max_output_tokens;
    m.fast_mode = b.fast_mode;
  }
  return config;
}

std::string_view ToString(providers::WireFormat value) { return NameOf(kWireNames, value); }
std::string_view ToString(CommandPolicy value) { return NameOf(kCommandPolicyNames, value); }
std::string_view ToString(SandboxMode value) { return NameOf(kSandboxModeNames, value); }
std::string_view ToString(OnUnavailable value) { return NameOf(kOnUnavailableNames, value); }
std::string_view ToString(ApprovalPolicy value) { return NameOf(kApprovalNames, value); }
std::string_view ToString(CaptureMode value) { return NameOf(kCaptureNames, value); }

std::optional<providers::WireFormat> ParseWireFormat(std::string_view text) {
  return ValueOf(kWireNames, text);
}
std::optional<CommandPolicy> ParseCommandPolicy(std::string_view text) {
  return ValueOf(kCommandPolicyNames, text);
}
std::optional<SandboxMode> ParseSandboxMode(std::string_view text) {
  return ValueOf(kSandboxModeNames, text);
}
std::optional<OnUnavailable> ParseOnUnavailable(std::string_view text) {
  return ValueOf(kOnUnavailableNames, text);
}
std::optional<ApprovalPolicy> ParseApprovalPolicy(std::string_view text) {
  return ValueOf(kApprovalNames, text);
}
std::optional<CaptureMode> ParseCaptureMode(std::string_view text) {
  return ValueOf(kCaptureNames, text);
}

double CostUsd(const ModelConfig& model, const protocol::Usage& usage) {
  int64_t cached = usage.cached_input_tokens;
  int64_t uncached = usage.input_tokens > cached ? usage.input_tokens - cached : 0;
  return (uncached * model.price_input + cached * model.price_cached_input +
          usage.output_tokens * model.price_output) /
         1e6;
}

double ReplyCostUsd(const ModelConfig& configured, const protocol::ModelResponse& reply) {
  if (!reply.served_by) return CostUsd(configured, reply.usage);
  ModelConfig served;
  served.price_input = reply.served_by->price_input;
  served.price_output = reply.served_by->price_output;
  served.price_cached_input = reply.served_by->price_cached_input;
  return CostUsd(served, reply.usage);
}

bool WithinPriceLimits(const PoolConfig& pool, const ModelConfig& model) {
  return (pool.max_price_input <= 0 || model.price_input <= pool.max_price_input) &&
         (pool.max_price_output <= 0 || model.price_output <= pool.max_price_output);
}

}  // namespace tandem::config
