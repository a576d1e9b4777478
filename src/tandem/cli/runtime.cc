#include "tandem/cli/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tandem/agent/task_runner.h"
#include "tandem/base/clock.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/ledger/ledger.h"
#include "tandem/platform/child_env.h"
#include "tandem/workspace/tracked_paths.h"

namespace tandem::cli {
namespace {

// Asks an OpenAI-compatible server which models it serves (GET /models),
// with short timeouts: a closed loopback port answers at once.
Result<std::vector<std::string>> ProbeModels(net::HttpTransport& transport,
                                             const std::string& base_url) {
  net::HttpRequest request;
  request.url = base_url + "/models";
  request.post = false;
  request.connect_timeout_ms = 300;
  request.total_timeout_ms = 1500;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string body;
  net::HttpResult result;
  net::TransferCallbacks callbacks;
  callbacks.on_body = [&](int, std::string_view chunk) {
    if (body.size() < (1 << 20)) body.append(chunk);
    return true;
  };
  callbacks.on_done = [&](net::HttpResult r) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(r);
    done = true;
    cv.notify_all();
  };
  transport.Start(std::move(request), std::move(callbacks));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (result.error != net::TransferError::kNone) return Unavailable(result.error_message);
  if (result.status != 200) return Unavailable("HTTP " + std::to_string(result.status));
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.contains("data") || !json["data"].is_array()) {
    return Unavailable("not an OpenAI-compatible model list");
  }
  std::vector<std::string> ids;
  for (const auto& m : json["data"]) {
    if (m.contains("id") && m["id"].is_string()) ids.push_back(m["id"].get<std::string>());
  }
  return ids;
}

// Why `legacy`, an earlier tandem's .tandem/ledger.db, may not be the user's
// own file ("" when it is theirs): a clone or checkout writes only what git
// tracks, and a symbolic link may point anywhere.
std::string WhyNotTheUsersLedger(const std::filesystem::path& legacy) {
  const std::filesystem::path dir = legacy.parent_path();
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return S_ISLNK(st.st_mode) ? ".tandem is a symbolic link" : ".tandem is not a directory";
  }
  if (::lstat(legacy.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return S_ISLNK(st.st_mode) ? "it is a symbolic link" : "it is not a regular file";
  }
  auto tracked = workspace::TrackedPaths(dir.parent_path(), ".tandem");
  if (!tracked) return "cannot tell whether git tracks it: " + tracked.error().message();
  for (const std::string& p : *tracked) {
    if (p == ".tandem" || p.rfind(".tandem/ledger.db", 0) == 0) {
      return "git tracks " + p + ": it came with the repository's content";
    }
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<Runtime>> LoadRuntime(const std::string& repo_root,
                                             const RuntimeOptions& options) {
  auto runtime = std::make_unique<Runtime>();
  // Every command run in a repository opens a workspace: its libgit2
  // initialization overlaps the rest of this start-up.
  if (!repo_root.empty()) runtime->git = std::make_unique<workspace::GitLibrary>();
  runtime->env = config::ProcessEnv();
  runtime->repo_root = repo_root;
  config::ConfigInputs inputs;
  inputs.repo_root = runtime->repo_root;
  inputs.env = runtime->env;
  inputs.overrides = options.overrides;
  inputs.extra_file = options.config_file;
  inputs.refuse_untrusted = options.refuse_untrusted;
  runtime->loaded = TRY(config::LoadConfig(inputs));
  // From here on, every value that commands and gates will not be given is
  // redacted wherever tandem writes or sends text (platform/child_env.h).
  platform::BuildChildEnv(platform::ProcessEnvironment(),
                          agent::ChildPolicyFrom(runtime->loaded.config).env);
  runtime->jobs =
      std::make_unique<platform::JobBudget>(static_cast<int>(runtime->loaded.config.limits.jobs));
  runtime->transport = std::make_shared<net::HttpTransport>();
  net::HttpTransport* transport = runtime->transport.get();
  config::DiscoveryOptions discovery_options;
  discovery_options.always_probe = options.always_probe;
  runtime->discovery = config::Discover(
      runtime->loaded, runtime->env,
      [transport](const std::string& base_url) { return ProbeModels(*transport, base_url); },
      discovery_options);
  return runtime;
}

void SeedSpeedBook(providers::SpeedBook& book, const std::vector<ledger::ModelSpeedRow>& rows) {
  for (const ledger::ModelSpeedRow& row : rows) {
    providers::SpeedSample sample;
    sample.uncached_input = std::max<int64_t>(0, row.tokens_in - row.tokens_cached);
    sample.output_tokens = row.tokens_out;
    sample.ttft_ms = static_cast<double>(row.ttft_ms);
    sample.total_ms = static_cast<double>(row.duration_ms);
    book.Record(row.provider + "/" + row.model, sample);
    book.RecordOutput(row.role, row.tokens_out);
  }
}

Result<std::vector<ledger::ModelSpeedRow>> ReadSpeedRows(const std::string& repo_root) {
  if (repo_root.empty()) return std::vector<ledger::ModelSpeedRow>{};
  std::filesystem::path path = TRY(ledger::LedgerPathFor(repo_root));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<ledger::ModelSpeedRow>{};
  std::unique_ptr<ledger::Ledger> opened = TRY(ledger::Ledger::Open({path, WallClockMs}));
  return opened->RecentModelCalls(providers::kWindow);
}

namespace {

// The ledger's recent calls into runtime.speeds, once; without a ledger (or
// when it cannot be read) the book starts empty: the prior.
void SeedSpeedsOnce(Runtime& runtime) {
  if (runtime.speeds_seeded) return;
  runtime.speeds_seeded = true;
  auto rows = ReadSpeedRows(runtime.repo_root);
  if (rows) SeedSpeedBook(*runtime.speeds, *rows);
}

Result<ModelHandle> OpenPool(Runtime& runtime, config::Role role, const std::string& pool) {
  std::vector<config::ResolvedModel> resolved =
      TRY(config::ResolvePool(runtime.loaded.config, runtime.env, pool));
  SeedSpeedsOnce(runtime);
  std::vector<providers::PoolMember> members;
  std::vector<std::unique_ptr<providers::ModelClient>> clients;
  for (const config::ResolvedModel& m : resolved) {
    providers::PoolMember member;
    member.identity.model_name = m.model_name;
    member.identity.provider = m.provider.name;
    member.identity.model_id = m.model.id;
    member.identity.price_input = m.model.price_input;
    member.identity.price_output = m.model.price_output;
    member.identity.price_cached_input = m.model.price_cached_input;
    member.identity.fast_mode = m.model.fast_mode;
    members.push_back(std::move(member));
    std::shared_ptr<providers::RateLimiter> limiter =
        TRY(runtime.rate_limiters.For(m.provider.name, m.provider.limits));
    clients.push_back(
        providers::MakeModelClient(m.provider, m.options, runtime.transport, std::move(limiter)));
  }
  ModelHandle handle;
  handle.resolved = resolved.front();
  handle.resolved.model_name = pool;
  handle.client = providers::MakeRoutedClient(std::move(members), std::move(clients),
                                              runtime.speeds, std::string(config::RoleName(role)));
  return handle;
}

}  // namespace

Result<ModelHandle> OpenModel(Runtime& runtime, config::Role role, const std::string& model_name) {
  const std::string& name =
      model_name.empty() ? runtime.loaded.config.roles.Get(role) : model_name;
  if (runtime.loaded.config.pools.count(name)) return OpenPool(runtime, role, name);
  ModelHandle handle;
  if (!model_name.empty()) {
    handle.resolved = TRY(config::ResolveModel(runtime.loaded.config, runtime.env, model_name));
  } else {
    handle.resolved = TRY(config::ResolveRole(runtime.loaded.config, runtime.env, role));
  }
  const providers::ProviderSettings& provider = handle.resolved.provider;
  std::shared_ptr<providers::RateLimiter> limiter =
      TRY(runtime.rate_limiters.For(provider.name, provider.limits));
  handle.client = providers::MakeModelClient(provider, handle.resolved.options, runtime.transport,
                                             std::move(limiter));
  return handle;
}

Result<std::filesystem::path, ExitCode> LocateLedger(const std::string& repo_root, std::FILE* err) {
  auto path = ledger::LedgerPathFor(repo_root);
  if (!path) {
    fmt::print(err, "tandem: ledger: {}\n", path.error().message());
    return kExitInternal;
  }
  std::error_code ec;
  if (std::filesystem::exists(*path, ec)) return *path;
  auto legacy = ledger::LegacyLedgerPathFor(repo_root);
  if (!legacy || !std::filesystem::exists(std::filesystem::symlink_status(*legacy, ec))) {
    return *path;
  }
  if (std::string why = WhyNotTheUsersLedger(*legacy); !why.empty()) {
    fmt::print(err,
               "tandem: warning: {} is not this repository's ledger ({}); tandem never reads "
               "it. Its ledger is {}, where no commit can write.\n",
               legacy->string(), why, path->string());
    return *path;
  }
  Status moved = ledger::Ledger::MoveLegacy(*legacy, *path);
  if (!moved.ok() && !std::filesystem::exists(*path, ec)) {  // else: another process moved it
    fmt::print(err, "tandem: ledger: cannot move {} to {}: {}\n", legacy->string(),
               path->string(), moved.message());
    return kExitInternal;
  }
  if (moved.ok()) {
    fmt::print(err, "tandem: moved this repository's ledger from {} to {}\n",
               legacy->string(), path->string());
  }
  return *path;
}

Result<std::unique_ptr<ledger::Ledger>, ExitCode> OpenLedger(const std::string& repo_root, std::FILE* err) {
  std::filesystem::path path = TRY(LocateLedger(repo_root, err));
  auto ledger = ledger::Ledger::Open({path, WallClockMs});
  if (!ledger) {
    fmt::print(err, "tandem: ledger: {}\n", ledger.error().message());
    return kExitInternal;
  }
  return std::move(*ledger);
}

bool UseColor() { return ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr; }

}  // namespace tandem::cli
