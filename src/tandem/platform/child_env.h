// The environment of a child that runs code a model wrote (a command or a
// gate): built from an allowlist, never inherited whole.
//
// A variable passes when it is on the built-in allowlist (DefaultEnvAllowlist,
// documented in docs/GUARDRAILS.md) or matches an `include` pattern, unless
// it matches an `exclude` pattern, or its name or value looks like a secret
// (NameLooksSecret, Redactor::HasSecretShape). A variable the user names
// exactly in `include` passes even when it looks like a secret: that is the
// user's explicit grant. `set` entries are set as given and win over all.
//
// Every removed value that could carry a secret is registered with the
// process-wide Redactor, so that the model, the ledger, progress.md, events
// and logs never see it even when a command prints it some other way; so is
// the value of a secret-looking variable the user passes by its exact name.
//
// Thread-safe (pure functions; the Redactor locks).
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::platform {

using EnvMap = std::map<std::string, std::string>;

// The user's `[environment]` configuration (docs/CONFIG.md). A pattern is a
// variable name, or a prefix ending in '*' ("LC_*").
struct EnvPolicy {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  EnvMap set;
};

struct ChildEnv {
  EnvMap vars;                        // exactly what the child gets
  std::vector<std::string> removed;  // names of the parent's variables left out, sorted
};

// The built-in allowlist, as patterns.
std::span<const std::string_view> DefaultEnvAllowlist();

// True when a name segment (split at '_') says the variable holds a secret:
// KEY, TOKEN, SECRET, PASSWORD, PASS, CREDENTIAL, AUTH, COOKIE, SESSION, ...,
// or ends with PASSWORD, PASSWD, TOKEN, SECRET or APIKEY (PGPASSWORD).
bool NameLooksSecret(std::string_view name);

// This process's environment.
EnvMap ProcessEnvironment();

// Builds the child's environment from `parent` under `policy` and registers
// the removed values that could be secrets with the Redactor (every removed
// value of 8 bytes or more, except one that a passed variable also holds,
// that names an existing path, or of tandem's own TANDEM_* settings), and
// the passed values of variables named exactly in `include` whose name or
// value looks like a secret (unless the value names an existing path).
ChildEnv BuildChildEnv(const EnvMap& parent, const EnvPolicy& policy);

}  // namespace tandem::platform
