// Trust in a repository's own configuration file (<repo>/.tandem/config.toml).
//
// A repository cloned from anyone may tune the work (limits, gates, scope,
// roles among the models the user already has), but the keys that decide
// where requests, API keys and code go, or how much a command may do, take
// effect only once the user has trusted that file as it is (see
// schema::TrustGateReason for the list). `tandem trust` records the
// repository and the SHA-256 of its file in the user's trust store,
// <user config dir>/tandem/trusted.toml (next to the user's config.toml); any
// change of the file's bytes asks again.
//
// The store is plain TOML, one [[repository]] table per trusted file:
//   [[repository]]
//   git_dir = "/home/me/src/app/.git"           # the common git directory
//   config = "/home/me/src/app/.tandem/config.toml"
//   sha256 = "9f86d0..."
// A file is trusted when an entry has its repository's git_dir and its
// sha256 (so a linked worktree with the same bytes is trusted too).
//
// Thread-safety: free functions over plain data; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/loader.h"

namespace tandem::config {

struct TrustedRepo {
  std::string git_dir;      // RepositoryId() of the repository
  std::string config_path;  // the file trusted (for people reading the store)
  std::string sha256;       // lowercase hex of the file's bytes

  bool operator==(const TrustedRepo&) const = default;
};

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// The repository's identity: its common git directory (a linked worktree
// shares its main repository's), made absolute and canonical; the canonical
// `repo_root` itself when it has no readable .git entry.
std::string RepositoryId(std::string_view repo_root);

// <user config dir>/tandem/trusted.toml, or "" when there is no user config
// directory (no HOME and no XDG_CONFIG_HOME).
std::string TrustStorePath(const ConfigInputs& inputs);

// Reads the store; a missing file is an empty store. Errors: kInvalidArgument
// naming the file (and line) when it is not a valid store, kIo when it
// cannot be read.
Result<std::vector<TrustedRepo>> ReadTrustStore(const std::string& path);

// The store's text for `entries` (with a header comment); ReadTrustStore
// reads it back unchanged.
std::string FormatTrustStore(const std::vector<TrustedRepo>& entries);

// Whether `entries` trust the file whose repository is `git_dir` and whose
// bytes hash to `sha256`: kTrusted, kChanged (the repository is in the store,
// but with other bytes) or kUntrusted.
RepoTrust::State Evaluate(const std::vector<TrustedRepo>& entries, std::string_view git_dir,
                          std::string_view sha256);

}  // namespace tandem::config
