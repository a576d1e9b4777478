// The configuration schema: one table of every valid key, its type, its
// range and how it is stored into Config. Files and `key=value` overrides are
// both checked against it, so a key means the same thing wherever it is set.
//
// Internal to the config layer (used by loader.cc); docs/CONFIG.md is the
// human-readable form of this table and must change with it.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/config/config.h"

namespace tandem::config::schema {

enum class Kind {
  kString,
  kUrl,      // a string starting with http:// or https://
  kEnvName,  // a string that is an environment variable name
  kEnum,     // a string from `choices`
  kInt,
  kNumber,  // integer or float
  kBool,
  kScopeList,  // an array of path globs inside the repository (ScopeGlobProblem)
  kHomeDirList,      // an array of paths relative to $HOME, without '..'
  kEnvPatternArray,  // strings, each a variable name or a prefix ending in '*'
  kEnvNameArray,     // strings, each a variable name
  kStringArray,      // strings
  kReviewPolicy,     // protocol::ParseReviewPolicy: a string ("irreversible,large") or an array of names
};

// A converted value; only the member matching the key's Kind is meaningful.
struct Value {
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<std::string> list;
};

// `names` holds what the pattern's "*" segments matched, in order.
using Setter = void (*)(Config& config, const std::vector<std::string>& names, const Value& value);

struct KeySpec {
  std::string_view pattern;  // dotted; "*" matches one name ("providers.*.base_url")
  Kind kind = Kind::kString;
  double min = 0;
  double max = 0;                         // min == max == 0: no range check
  bool min_exclusive = false;             // "> min" rather than ">= min"
  std::vector<std::string_view> choices;  // kEnum only
  Setter set = nullptr;
};

std::span<const KeySpec> Keys();

// The spec whose pattern matches `path` exactly, filling `names` with the
// wildcard segments; nullptr when none does.
const KeySpec* FindKey(const std::vector<std::string>& path, std::vector<std::string>* names);

// True when some key lies strictly below `path` (so `path` must be a table).
bool IsTablePath(const std::vector<std::string>& path);

// For an unknown key: the closest valid key at the same place, as a full
// dotted path ("models.fast.price_input"), when one is close enough.
std::optional<std::string> SuggestKey(const std::vector<std::string>& path);

// Why the repository's own file may set `path` only with the user's trust
// (it decides where requests, keys or code go, or how much a command may do),
// or nullopt when a repository may tune it freely. Declaring a provider or a
// model the user does not have is gated too; the loader checks that, since it
// depends on the layers below.
std::optional<std::string_view> TrustGateReason(const std::vector<std::string>& path);

// True when a request header `name: value` would carry a credential: a name
// such as Authorization, Proxy-Authorization, Cookie or one holding "key",
// "token", "secret" or "auth", or a value that looks like a key (a known key
// shape, "Bearer ..."/"Basic ...", or a long run of letters and digits).
// Such a header may not be set in any file or flag: keys live in the
// environment, named by api_key_env.
bool IsCredentialHeader(std::string_view name, std::string_view value);

// Checks `node` against `spec`. On success fills `out`; on failure returns
// false and sets `error` to "expected <what>, found <what>".
bool Convert(const KeySpec& spec, const toml::node& node, Value* out, std::string* error);

// "a number >= 0", "one of \"openai\", \"anthropic\"", ...
std::string Expected(const KeySpec& spec);

// `string "cheap"`, `integer 5`, `table`, ...; string contents are redacted
// and shortened so a mistaken secret never reaches a message.
std::string Describe(const toml::node& node);

// Dotted path with names that are not bare TOML keys quoted.
std::string JoinPath(const std::vector<std::string>& path);

// Splits a dotted key, honoring double-quoted segments (models."gpt-5.5".id).
std::vector<std::string> SplitPath(std::string_view key);

// The candidate closest to `word` by edit distance, when close enough to be
// a plausible typo; else one that `word` shortens (`word` + "_...").
std::optional<std::string> Closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace tandem::config::schema
