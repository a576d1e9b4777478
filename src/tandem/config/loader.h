// LoadConfig: builds a Config from its layers, later layers overriding
// earlier ones key by key:
//
//   built-in defaults < user file < repo file < $TANDEM_CONFIG file
//                     < environment (TANDEM_*_MODEL) < overrides ("key=value")
//
// The user file is $XDG_CONFIG_HOME/tandem/config.toml when XDG_CONFIG_HOME
// is set (and absolute), else $HOME/.config/tandem/config.toml; the repo file
// is <repo>/.tandem/config.toml. Missing files are skipped. Every input comes
// through ConfigInputs, so tests never touch the real home or environment.
//
// The repository file is trust-gated (trust.h): when it sets a key that only
// the user may set (schema::TrustGateReason) and the user has not trusted its
// exact bytes with `tandem trust`, loading fails with one line per such key
// (file:line: key: why) after a first line saying how to trust it, unless
// ConfigInputs::refuse_untrusted is false (`tandem doctor`, `tandem trust`).
// Either way LoadedConfig::repo_trust says what was found.
//
// Errors: any bad key, type, value or cross-reference yields kInvalidArgument
// whose message has one line per problem, each naming where and which key:
//   /repo/.tandem/config.toml:7: models.fast.price_input: expected a number >= 0, found string
//   "cheap"
// A file that is not valid TOML gives "path:line:col: <parser message>".
// No partial Config is ever returned.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/config.h"

namespace tandem::config {

// Where a value was set.
struct Origin {
  std::string source;  // a file path, "environment TANDEM_EXECUTOR_MODEL", "override 'k=v'",
                       // "built-in", "discovered (...)"
  int line = 0;        // 1-based line in a file; 0 otherwise

  std::string ToString() const;  // "path:line" or `source`
};

enum class FileLayer { kUser, kRepo, kExtra };
std::string_view ToString(FileLayer layer);  // "user", "repo", "TANDEM_CONFIG"

struct ConfigFile {
  std::string path;
  FileLayer layer = FileLayer::kUser;
  bool loaded = false;  // false: the file does not exist
};

// A key in the repository's own file that needs the user's trust.
struct GatedKey {
  std::string key;     // "providers.openai.base_url"
  Origin origin;       // where the repository file sets it
  std::string reason;  // "decides where requests and your API key go"
};

// What tandem found about the repository's own configuration file.
struct RepoTrust {
  enum class State {
    kNoFile,     // the repository has no .tandem/config.toml (or no repository)
    kNotNeeded,  // the file sets no trust-gated key
    kTrusted,    // it does, and the user trusted these exact bytes
    kUntrusted,  // it does, and the user never trusted this repository's file
    kChanged,    // it does, and the file changed since the user trusted it
  };
  State state = State::kNoFile;
  std::string path;             // the repository file, when loaded
  std::string sha256;           // of the bytes loaded
  std::string git_dir;          // RepositoryId of the repository, when gated keys were found
  std::vector<GatedKey> gated;  // in the file's line order
};
std::string_view ToString(RepoTrust::State state);  // "trusted", "not trusted", ...

struct LoadedConfig {
  Config config;
  RepoTrust repo_trust;
  std::vector<ConfigFile> files;  // every file looked for, in layer order
  // Dotted key ("roles.executor") -> where its value was last set. Entities
  // ("providers.NAME", "models.NAME") -> where they were first declared.
  std::map<std::string, Origin, std::less<>> origins;

  // The origin of `key`, or {"built-in"} when no layer set it.
  Origin OriginOf(std::string_view key) const;
};

struct ConfigInputs {
  std::string home;       // $HOME; empty: taken from env["HOME"]
  std::string repo_root;  // the repository's top directory; empty: not in a repository
  Env env;
  std::vector<std::string> overrides;  // "limits.max_steps=30", from command-line flags
  std::string extra_file = {};         // the extra layer's file; empty: $TANDEM_CONFIG (if set)
  bool refuse_untrusted = true;        // false: load an untrusted repository file anyway
};

// The real process environment (environ), for main.cc.
Env ProcessEnv();

// The nearest directory at or above `start_dir` that holds a .git entry, or
// "" when there is none.
std::string FindRepoRoot(std::string_view start_dir);

// The layer file paths for `inputs`; "" when the layer has no file.
std::string UserConfigPath(const ConfigInputs& inputs);
std::string RepoConfigPath(const ConfigInputs& inputs);

Result<LoadedConfig> LoadConfig(const ConfigInputs& inputs);

}  // namespace tandem::config
