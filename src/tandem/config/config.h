// Config: tandem's settings as plain data, after every layer has been merged.
//
// Produced by LoadConfig (loader.h), completed by Discover (discovery.h) and
// read by everything else. Every key, its type and its default is documented
// in docs/CONFIG.md; the key table that parses them lives in schema.cc.
// API keys are never stored here: a provider names the environment variable
// that holds its key, and Resolve (resolve.h) reads it at the last moment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/protocol/model.h"
#include "tandem/protocol/vocabulary.h"
#include "tandem/providers/model_client.h"

namespace tandem::config {

// The process environment, injected so tests never read the real one.
using Env = std::map<std::string, std::string, std::less<>>;

// Returns env[name], or "" when it is absent.
std::string_view EnvValue(const Env& env, std::string_view name);

enum class Role { kPlanner, kExecutor, kReviewer };
inline constexpr Role kAllRoles[] = {Role::kPlanner, Role::kExecutor, Role::kReviewer};
std::string_view RoleName(Role role);  // "planner", "executor", "reviewer"
std::optional<Role> ParseRole(std::string_view name);

// How to reach one provider. `settings.api_key` is always empty here.
struct ProviderConfig {
  providers::ProviderSettings settings;  // settings.name is the table name
  std::string api_key_env;               // e.g. "CEREBRAS_API_KEY"; empty: no key (local server)
};

struct ModelConfig {
  std::string provider;  // a key of Config::providers
  std::string id;        // the provider's model id; defaults to the table name
  int64_t context_window = 128000;
  double price_input = 0;         // USD per million uncached input tokens
  double price_output = 0;        // USD per million output tokens
  double price_cached_input = 0;  // USD per million cache-read input tokens
  int64_t max_output_tokens = 8192;
  bool tools = true;       // the model can call tools
  bool fast_mode = false;  // Anthropic speed:"fast"
};

// [pools.NAME]: several models for one role (a role names the pool as it
// would name a model). Each request goes to the member with the lowest
// predicted time (providers/routing.h), among the members within the price
// limits (docs/CONFIG.md).
struct PoolConfig {
  std::vector<std::string> models;  // names under [models], in order of preference on a tie
  double max_price_input = 0;       // USD per million uncached input tokens; 0: no limit
  double max_price_output = 0;      // USD per million output tokens; 0: no limit
};

// True when `model` is within `pool`'s price limits.
bool WithinPriceLimits(const PoolConfig& pool, const ModelConfig& model);

struct Roles {
  std::string planner;
  std::string executor;
  std::string reviewer;

  std::string& Get(Role role);
  const std::string& Get(Role role) const;
};

// Budgets for one `tandem do` run.
struct Limits {
  int64_t max_steps = 40;
  int64_t max_tokens = 2000000;
  double max_cost_usd = 5.0;
  int64_t max_wall_s = 1800;
  int64_t step_retries = 3;  // verification retries per task
  int64_t context_tokens = 24000;  // executor history budget; older turns are compacted
  // `tandem run`: plan tasks running at once, each in its own worktree;
  // 1 runs them one by one in the checkout itself.
  int64_t parallel_tasks = 0;  // 0: auto (orchestrator::AutoParallelTasks)
  int64_t jobs = 0;  // gates and commands at once, all agents together; 0: the machine's cores
};

// Names double as configuration values ("refuse-risky", "allow-all").
enum class CommandPolicy { kRefuseRisky, kAllowAll };

struct Guardrails {
  bool allow_delete = false;
  int64_t max_lines_per_step = 400;
  int64_t max_files_per_step = 10;
  int64_t max_lines_per_task = 2000;
  int64_t max_files_per_task = 40;
  std::vector<std::string> scope;  // globs a task may touch; empty = whole repository
  CommandPolicy command_policy = CommandPolicy::kRefuseRisky;
};

enum class SandboxMode { kAuto, kBwrap, kNone };
enum class OnUnavailable { kRefuse, kRunUnsandboxed };

// The toolchain directories under $HOME that stay visible (read-only) in the
// sandbox, which otherwise hides the user's home (docs/GUARDRAILS.md).
std::vector<std::string> DefaultHomeDirs();

struct Sandbox {
  SandboxMode mode = SandboxMode::kAuto;
  OnUnavailable on_unavailable = OnUnavailable::kRefuse;
  bool network = false;
  std::vector<std::string> home_dirs = DefaultHomeDirs();  // relative to $HOME
};

// Which of tandem's environment variables commands and gates see, on top of
// the built-in allowlist (docs/GUARDRAILS.md). A pattern is a variable name,
// or a prefix ending in '*' ("LC_*").
struct Environment {
  std::vector<std::string> include;  // passed too; a name given exactly passes even if it looks secret
  std::vector<std::string> exclude;  // never passed (wins over include and the allowlist)
  std::map<std::string, std::string> set;  // set to this value
};

enum class ApprovalPolicy { kAsk, kDeny, kApprove };

struct Approval {
  ApprovalPolicy policy = ApprovalPolicy::kAsk;
};

// One `[mcp_servers.NAME]` table: an MCP server whose tools the executor
// may use (docs/CONFIG.md, docs/MCP.md).
struct McpServer {
  std::string command;                      // program; looked up on the child's PATH
  std::vector<std::string> args;
  std::vector<std::string> env;             // names of variables passed from tandem's environment
  std::string cwd;                          // relative to the repository root; empty: the root
  bool enabled = true;
  std::vector<std::string> enabled_tools;   // empty: every tool
  std::vector<std::string> disabled_tools;  // never offered (wins over enabled_tools)
  int64_t start_timeout_ms = 10000;
  int64_t call_timeout_ms = 60000;
  bool network = false;  // the server may reach the network (its calls then need approval)
};

// skills.capture: after a verified task, save it as a skill never, after
// asking (in a terminal, outside CI; elsewhere as off), or always.
enum class CaptureMode { kOff, kAsk, kAuto };

// Skills (docs/SKILLS.md): which are put into an executor's first request,
// when a skill counts as failing, and when verified tasks are captured.
struct Skills {
  bool enabled = true;             // skills.enabled: inject skills that fit the task
  int64_t max_injected = 3;        // skills.max_injected
  int64_t token_budget = 2000;     // skills.token_budget: all injected skills together
  double min_score = 1.0;          // skills.min_score: weaker BM25 matches are left out
  double flag_failure_share = 0.5; // skills.flag_failure_share: flagged above this share of failed replays
  int64_t flag_min_replays = 3;    // skills.flag_min_replays: ...once it has this many
  CaptureMode capture = CaptureMode::kAsk;  // skills.capture
  // Not a key: the user's home, from the environment given to the runtime
  // (ConfigInputs::home or $HOME), where ~/.agents/skills/ lives. Empty: none.
  std::string home;
};

// [review]: when the reviewer role reads a task's change before it counts
// as done (docs/CONFIG.md).
struct Review {
  protocol::ReviewPolicy policy;  // default: irreversible + large
  int64_t large_lines = 200;      // "large": more lines changed in the task than this
};

// [commit]: `tandem run --commit`, a git commit per done and reviewed task.
struct Commit {
  bool enabled = false;
  std::string author;  // "Name <email>"; empty: git's own (user.name, user.email)
};

// [fanout]: how a fan-out (`tandem do --variants N`, a plan task's
// `variants: N`; docs/FANOUT.md) ranks its passing variants.
struct Fanout {
  // fanout.tournament: the reviewer role's model (when it has one) judges
  // the passing variants pairwise; false: the score alone ranks them
  // (`tandem do --no-tournament` sets it false for one run).
  bool tournament = true;
};

struct Config {
  std::map<std::string, McpServer, std::less<>> mcp_servers;
  std::map<std::string, ProviderConfig, std::less<>> providers;
  std::map<std::string, ModelConfig, std::less<>> models;
  std::map<std::string, PoolConfig, std::less<>> pools;
  Roles roles;
  Limits limits;
  Guardrails guardrails;
  Sandbox sandbox;
  Environment environment;
  Approval approval;
  Skills skills;
  Review review;
  Commit commit;
  Fanout fanout;
};

// The built-in defaults layer: struct defaults plus the built-in providers
// and models of builtins.h. Roles are left empty (Discover fills them).
Config DefaultConfig();

// USD for `usage` at `model`'s prices: uncached input, cached input and
// output each at their own price per million tokens.
double CostUsd(const ModelConfig& model, const protocol::Usage& usage);
// USD for `reply`: at the prices of the pool member that served it
// (reply.served_by), else at `configured`'s (the caller's one model).
double ReplyCostUsd(const ModelConfig& configured, const protocol::ModelResponse& reply);

// Configuration spellings of the enums, and their inverses.
std::string_view ToString(providers::WireFormat value);  // "openai" | "anthropic"
std::string_view ToString(CommandPolicy value);          // "refuse-risky" | "allow-all"
std::string_view ToString(SandboxMode value);            // "auto" | "bwrap" | "none"
std::string_view ToString(OnUnavailable value);          // "refuse" | "run-unsandboxed"
std::string_view ToString(ApprovalPolicy value);         // "ask" | "deny" | "approve"
std::string_view ToString(CaptureMode value);            // "off" | "ask" | "auto"
std::optional<providers::WireFormat> ParseWireFormat(std::string_view text);
std::optional<CommandPolicy> ParseCommandPolicy(std::string_view text);
std::optional<SandboxMode> ParseSandboxMode(std::string_view text);
std::optional<OnUnavailable> ParseOnUnavailable(std::string_view text);
std::optional<ApprovalPolicy> ParseApprovalPolicy(std::string_view text);
std::optional<CaptureMode> ParseCaptureMode(std::string_view text);

}  // namespace tandem::config
