// Trust in a repository's own settings: its configuration file
// (<repo>/.tandem/config.toml) and the grants of its verify.md.
//
// A repository cloned from anyone may tune the work (limits, gates, scope,
// roles among the models the user already has), but the keys that decide
// where requests, API keys and code go, or how much a command may do, take
// effect only once the user has trusted that file as it is (see
// schema::TrustGateReason for the list). Likewise a verify.md gate's grants
// (`network`, `env VAR`: verify/gate.h) widen the sandbox of a gate that runs
// code a model may write, so they are honoured only once the user trusted
// them. `tandem trust` records the repository, the SHA-256 of its file and
// the SHA-256 of verify.md's grants fingerprint (verify::GrantsFingerprint:
// each granted gate with its command) in the user's trust store,
// <user config dir>/tandem/trusted.toml (next to the user's config.toml); any
// change of the file's bytes, or of what runs with a grant, asks again.
//
// The store is plain TOML, one [[repository]] table per trusted worktree:
//   [[repository]]
//   git_dir = "/home/me/src/app/.git"           # the common git directory
//   config = "/home/me/src/app/.tandem/config.toml"
//   sha256 = "9f86d0..."                        # absent: no file was trusted
//   verify = "/home/me/src/app/verify.md"
//   grants_sha256 = "3a7bd3..."                 # absent: no grant was trusted
// A file (or grant set) is trusted when an entry has its repository's
// git_dir and its hash (so a linked worktree with the same bytes is trusted
// too).
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
  std::string git_dir{};        // RepositoryId() of the repository
  std::string config_path{};    // the file trusted (for people reading the store)
  std::string sha256{};         // lowercase hex of the file's bytes; "": no file trusted
  std::string verify_path{};    // the verify.md whose grants were trusted (for people)
  std::string grants_sha256{};  // Sha256Hex of its grants fingerprint; "": no grant trusted

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

// What a hash in the store vouches for.
enum class TrustedPart {
  kConfig,  // TrustedRepo::sha256: the repository's configuration file
  kGrants,  // TrustedRepo::grants_sha256: verify.md's grants
};

// Whether `entries` trust `part` of the repository `git_dir`, whose hash is
// `sha256`: kTrusted, kChanged (the repository's `part` is in the store, but
// with another hash) or kUntrusted.
RepoTrust::State Evaluate(const std::vector<TrustedRepo>& entries, TrustedPart part,
                          std::string_view git_dir, std::string_view sha256);

// verify.md's grants as the trust boundary sees them.
struct GrantsTrust {
  // kNoFile: no verify.md; kNotNeeded: no gate has a grant; else as Evaluate.
  RepoTrust::State state = RepoTrust::State::kNoFile;
  std::string path;              // verify.md
  std::string sha256;            // Sha256Hex of its grants fingerprint
  std::string git_dir;           // RepositoryId of the repository
  std::vector<GatedKey> grants;  // one per grant, in file order: key "gate 'it': network"
};

// Evaluates the grants of verify.md at `path` in the repository at
// `repo_root` against the store at `store_path` ("": no store, nothing is
// trusted). `fingerprint` is verify::GrantsFingerprint of its gates and
// `grants` names each grant; no grant: kNotNeeded. Errors: the store cannot
// be read or is not valid (ReadTrustStore).
Result<GrantsTrust> CheckGrants(const std::string& store_path, const std::string& repo_root,
                                std::string path, std::string_view fingerprint,
                                std::vector<GatedKey> grants);

// Ok when `trust` is kTrusted, kNotNeeded or kNoFile. Otherwise
// kInvalidArgument whose first line names the file and says how to trust
// it (`tandem trust`), followed by a line per grant: "path:line: key: reason".
Status RefuseUntrustedGrants(const GrantsTrust& trust);

}  // namespace tandem::config
