// tandem trust [--revoke | --list]: records that the user trusts the current
// repository's own .tandem/config.toml and the grants of its verify.md as they
// are now (their SHA-256, in the user's trust store; config/trust.h), so that
// the keys which decide where requests, keys and code go, and the gates'
// `network` and `env VAR`, take effect. It shows what it trusts: each gated
// key, each granted gate with its command. Any later change of the file's
// bytes, or of a granted gate, asks again. --revoke forgets the repository;
// --list shows the store.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/config/loader.h"
#include "tandem/config/trust.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::cli {
namespace {

namespace fs = std::filesystem;

enum class TrustAction { kTrust, kRevoke, kList };

// Reads the store, lets `edit` change it and writes it back, under a lock on
// its directory so that two `tandem trust` at once do not lose an entry.
Status EditStore(const std::string& path,
                 const std::function<void(std::vector<config::TrustedRepo>&)>& edit) {
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(dir.string() + ": " + ec.message());
  auto lock = TRY(platform::DirectoryLock::Acquire(dir));
  std::vector<config::TrustedRepo> entries = TRY(config::ReadTrustStore(path));
  edit(entries);
  return platform::WriteFileAtomically(path, config::FormatTrustStore(entries));
}

int RunTrust(const std::string& repo_root, TrustAction action) {
  config::ConfigInputs inputs;
  inputs.env = config::ProcessEnv();
  inputs.repo_root = repo_root;
  inputs.refuse_untrusted = false;
  std::string store = config::TrustStorePath(inputs);
  if (store.empty()) {
    fmt::print(stderr, "tandem: no user configuration directory (set HOME or XDG_CONFIG_HOME)\n");
    return kExitUsage;
  }
  if (action == TrustAction::kList) {
    auto entries = config::ReadTrustStore(store);
    if (!entries) {
      fmt::print(stderr, "tandem: {}\n", entries.error().message());
      return kExitUsage;
    }
    if (entries->empty()) fmt::print("no trusted repositories ({})\n", store);
    for (const auto& entry : *entries) {
      if (!entry.sha256.empty()) {
        fmt::print("{}  sha256 {}  {}\n", entry.config_path, entry.sha256.substr(0, 12),
                   entry.git_dir);
      }
      if (!entry.grants_sha256.empty()) {
        fmt::print("{} (grants)  sha256 {}  {}\n", entry.verify_path,
                   entry.grants_sha256.substr(0, 12), entry.git_dir);
      }
    }
    return kExitSuccess;
  }
  if (inputs.repo_root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  std::string git_dir = config::RepositoryId(inputs.repo_root);
  if (action == TrustAction::kRevoke) {
    size_t removed = 0;
    Status written = EditStore(store, [&](std::vector<config::TrustedRepo>& entries) {
      removed = std::erase_if(entries, [&](const auto& e) { return e.git_dir == git_dir; });
    });
    if (!written.ok()) {
      fmt::print(stderr, "tandem: {}\n", written.message());
      return kExitInternal;
    }
    fmt::print("{} no longer trusted ({} entr{} removed from {})\n", git_dir, removed,
               removed == 1 ? "y" : "ies", store);
    return kExitSuccess;
  }

  // Trust exactly the bytes whose keys and grants are shown here: LoadConfig
  // hashed what it parsed, LoadGates fingerprinted the gates it parsed.
  auto loaded = config::LoadConfig(inputs);
  if (!loaded) {
    fmt::print(stderr, "tandem: {}\n(fix the configuration before trusting it)\n",
               loaded.error().message());
    return kExitUsage;
  }
  auto gates = LoadGates(inputs.repo_root, inputs.env, {.refuse_untrusted = false});
  if (!gates) {
    fmt::print(stderr, "tandem: {}\n(fix verify.md before trusting it)\n",
               gates.error().message());
    return kExitUsage;
  }
  const config::RepoTrust& trust = loaded->repo_trust;
  const config::GrantsTrust& grants = gates->trust;
  const bool has_file = trust.state != config::RepoTrust::State::kNoFile;
  const bool has_grants = !grants.grants.empty();
  if (!has_file && !has_grants) {
    fmt::print(stderr,
               "tandem: {} does not exist and verify.md grants no gate more than the sandbox "
               "allows: nothing to trust\n",
               config::RepoConfigPath(inputs));
    return kExitUsage;
  }
  config::TrustedRepo entry{git_dir, config::RepoConfigPath(inputs), has_file ? trust.sha256 : "",
                            has_grants ? grants.path : "", has_grants ? grants.sha256 : ""};
  Status written = EditStore(store, [&](std::vector<config::TrustedRepo>& entries) {
    std::erase_if(entries, [&](const auto& e) {
      return e.git_dir == git_dir && e.config_path == entry.config_path;
    });
    entries.push_back(entry);
  });
  if (!written.ok()) {
    fmt::print(stderr, "tandem: {}\n", written.message());
    return kExitInternal;
  }
  if (has_file) {
    fmt::print("trusted {} as it is now (sha256 {}); any change asks again\n", trust.path,
               trust.sha256.substr(0, 12));
    if (trust.gated.empty()) {
      fmt::print("it sets no key that needs trust today\n");
    } else {
      fmt::print("it may now set:\n");
      for (const auto& gated : trust.gated) {
        fmt::print("  {}: {} ({})\n", gated.origin.ToString(), gated.key, gated.reason);
      }
    }
  }
  if (has_grants) {
    fmt::print(
        "trusted the grants of {} as they are now (sha256 {}); a change to a granted gate asks "
        "again. These gates run with more than the sandbox allows:\n",
        grants.path, grants.sha256.substr(0, 12));
    for (const verify::Gate& gate : gates->gates) {
      if (!gate.granted()) continue;
      fmt::print("  {}:{}: gate '{}': {}\n", grants.path, gate.line, gate.name,
                 verify::GrantText(gate));
      std::string command = "      " + gate.command;  // indented under its gate
      for (size_t at = command.find('\n'); at != std::string::npos; at = command.find('\n', at + 1)) {
        command.insert(at + 1, "      ");
      }
      fmt::print("{}\n", command);
    }
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupTrust(CLI::App& app) {
  auto revoke = std::make_shared<bool>(false);
  auto list = std::make_shared<bool>(false);
  app.add_flag("--revoke", *revoke, "Forget this repository: its configuration is untrusted again");
  app.add_flag("--list", *list, "List the trusted repositories")->excludes("--revoke");
  return [revoke, list](const Invocation& in) {
    TrustAction action = *list     ? TrustAction::kList
                         : *revoke ? TrustAction::kRevoke
                                   : TrustAction::kTrust;
    return RunTrust(in.repo_root, action);
  };
}

}  // namespace tandem::cli
