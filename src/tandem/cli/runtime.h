// The composition root's shared pieces for subcommands: configuration
// loaded for the repository Main found (cli/command.h Invocation),
// zero-config discovery, the one HTTP transport every model client shares,
// model clients for roles, and the repository's one ledger.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/config/discovery.h"
#include "tandem/config/loader.h"
#include "tandem/config/resolve.h"
#include "tandem/ledger/ledger.h"
#include "tandem/net/http_transport.h"
#include "tandem/platform/job_budget.h"
#include "tandem/providers/model_client.h"
#include "tandem/providers/rate_limiter.h"
#include "tandem/providers/routing.h"
#include "tandem/workspace/git_library.h"

namespace tandem::cli {

struct Runtime {
  // Inside a repository: libgit2 initialized from the start, in the
  // background (workspace/git_library.h). First, so it is released last.
  std::unique_ptr<workspace::GitLibrary> git;
  config::LoadedConfig loaded;
  config::DiscoveryReport discovery;
  config::Env env;
  std::string repo_root;  // empty when not inside a git repository
  std::shared_ptr<net::HttpTransport> transport;
  // The process's one job budget (limits.jobs tokens): every agent's gates
  // and commands draw from it (agent::TaskEnv::job_budget).
  std::unique_ptr<platform::JobBudget> jobs;
  // One RateLimiter per provider name, held by every model client OpenModel
  // builds: all agents of the process share each provider's limits and its
  // 429 pauses.
  providers::RateLimiters rate_limiters;
  // The measured speed of every model, shared by every pool's client
  // (providers/routing.h); seeded from the ledger when the first pool opens.
  std::shared_ptr<providers::SpeedBook> speeds = std::make_shared<providers::SpeedBook>();
  bool speeds_seeded = false;
};

struct RuntimeOptions {
  std::vector<std::string> overrides;  // --set key=value
  bool always_probe = false;           // doctor: look for local servers even if configured
  bool refuse_untrusted = true;        // false (doctor): load an untrusted repository file anyway
  std::string config_file = {};        // the extra layer's file (demo); empty: $TANDEM_CONFIG
};

// Loads configuration for the repository at `repo_root` (empty: outside any
// repository; only user and environment layers) and discovers providers.
// Errors name the file, line and key (config layer); the caller prints them.
// An untrusted repository file that sets a trust-gated key is such an error
// (config/trust.h), so nothing runs before the user trusts it.
Result<std::unique_ptr<Runtime>> LoadRuntime(const std::string& repo_root,
                                             const RuntimeOptions& options);

// The ledger of the repository at `repo_root`, shared by all its worktrees,
// in the git directory (ledger::LedgerPathFor). The first time, it moves
// there the ledger an earlier tandem kept in the working tree
// (.tandem/ledger.db), if that file is the user's own: a regular file in a
// real .tandem directory, neither tracked by git. Anything else there came
// with the repository's content (or through a link) and is never read: a
// warning names it and why, and the ledger starts empty. On failure prints
// the error (`err`) and returns kExitInternal.
Result<std::filesystem::path, ExitCode> LocateLedger(const std::string& repo_root,
                                                    std::FILE* err = stderr);

// Opens the ledger LocateLedger finds. Every subcommand that writes or
// reads runs opens it here. On failure prints the error (`err`) and returns
// kExitInternal.
Result<std::unique_ptr<ledger::Ledger>, ExitCode> OpenLedger(const std::string& repo_root,
                                                             std::FILE* err = stderr);

struct ModelHandle {
  config::ResolvedModel resolved;
  std::unique_ptr<providers::ModelClient> client;
};

// Resolves `model_name` if given, else `role`, and builds its client, within
// the provider's shared limiter (runtime.rate_limiters). A name that is a
// pool ([pools.NAME]) gets a routed client over its members (one client
// each, within their providers' limiters) sharing runtime.speeds, seeded
// once from the repository's ledger (RecentModelCalls; a ledger that cannot
// be read leaves the prior); `resolved` is then the pool's first member
// named after the pool, and each reply names the member that served it.
Result<ModelHandle> OpenModel(Runtime& runtime, config::Role role, const std::string& model_name);

// The repository's ledger's recent successful calls per model
// (Ledger::RecentModelCalls, providers::kWindow each), oldest first; none
// when there is no repository or no ledger yet (nothing is created).
Result<std::vector<ledger::ModelSpeedRow>> ReadSpeedRows(const std::string& repo_root);

// Feeds ledger rows (oldest first) into `book`: each row a sample of its
// provider/model and an output of its role.
void SeedSpeedBook(providers::SpeedBook& book, const std::vector<ledger::ModelSpeedRow>& rows);


// True when stdout is a terminal and NO_COLOR is unset.
bool UseColor();

}  // namespace tandem::cli
