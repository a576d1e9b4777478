#include "tandem/platform/child_env.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "tandem/base/redact.h"

extern char** environ;

namespace tandem::platform {
namespace {

// What builds and tests commonly need; nothing that carries a credential by
// design. docs/GUARDRAILS.md lists and explains it.
constexpr std::string_view kAllowlist[] = {
    // the session
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TERM", "TMPDIR", "TZ",
    // C and C++
    "CC", "CXX", "CPP", "LD", "AR", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS",
    "MAKEFLAGS", "PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH", "CMAKE_GENERATOR", "LD_LIBRARY_PATH",
    "LIBRARY_PATH", "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
    // Go, Rust, Java, Python, Node, Ruby, .NET
    "GOPATH", "GOROOT", "GOFLAGS", "GOCACHE", "GOMODCACHE", "GOTOOLCHAIN", "GO111MODULE",
    "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "RUSTFLAGS", "CARGO_TARGET_DIR",
    "JAVA_HOME", "JDK_HOME", "MAVEN_HOME", "M2_HOME", "GRADLE_HOME", "GRADLE_USER_HOME",
    "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "NODE_PATH", "NVM_DIR",
    "GEM_HOME", "GEM_PATH", "DOTNET_ROOT"};

bool Matches(std::string_view pattern, std::string_view name) {
  if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == name;
}

template <typename Patterns>
bool AnyMatches(const Patterns& patterns, std::string_view name) {
  return std::any_of(std::begin(patterns), std::end(patterns),
                     [&](const auto& p) { return Matches(p, name); });
}

bool NamesExistingPath(const std::string& value) {
  std::string first = value.substr(0, value.find(':'));
  struct stat st;
  return !first.empty() && first[0] == '/' && ::stat(first.c_str(), &st) == 0;
}

}  // namespace

std::span<const std::string_view> DefaultEnvAllowlist() { return kAllowlist; }

bool NameLooksSecret(std::string_view name) {
  static constexpr std::string_view kSegments[] = {
      "KEY",  "APIKEY",   "TOKEN",      "SECRET",      "SECRETS", "PASSWORD", "PASSWD",
      "PASS", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "AUTH",    "COOKIE",   "SESSION",
      "PRIVATE", "PAT"};
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('_', begin);
    if (end == std::string_view::npos) end = name.size();
    std::string seg(name.substr(begin, end - begin));
    for (char& c : seg) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (std::string_view s : kSegments) {
      if (seg == s) return true;
    }
    // Run-together names: PGPASSWORD, MYAPITOKEN.
    for (std::string_view s : {"PASSWORD", "PASSWD", "TOKEN", "SECRET", "APIKEY"}) {
      if (std::string_view(seg).ends_with(s)) return true;
    }
    begin = end + 1;
  }
  return false;
}

EnvMap ProcessEnvironment() {
  EnvMap env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

ChildEnv BuildChildEnv(const EnvMap& parent, const EnvPolicy& policy) {
  ChildEnv child;
  std::vector<const std::string*> removed_values;
  for (const auto& [name, value] : parent) {
    const bool named = std::find(policy.include.begin(), policy.include.end(), name) !=
                       policy.include.end();
    bool pass = named || AnyMatches(kAllowlist, name) || AnyMatches(policy.include, name);
    if (pass && !named && (NameLooksSecret(name) || Redactor::HasSecretShape(value))) pass = false;
    if (AnyMatches(policy.exclude, name)) pass = false;
    if (pass) {
      child.vars[name] = value;
      // The user's explicit word passes a secret, which stays one: what the
      // child prints of it is redacted like a removed value.
      if (named && (NameLooksSecret(name) || Redactor::HasSecretShape(value)) &&
          !NamesExistingPath(value)) {
        Redactor::Register(value);
      }
    } else {
      child.removed.push_back(name);
      // tandem's own settings (TANDEM_EXECUTOR_MODEL=...) name models and
      // files; provider keys are registered where they are resolved.
      if (!name.starts_with("TANDEM_") || NameLooksSecret(name)) removed_values.push_back(&value);
    }
  }
  for (const auto& [name, value] : policy.set) {
    if (!name.empty() && name.find('=') == std::string::npos) child.vars[name] = value;
  }
  std::set<std::string_view> kept;
  for (const auto& [name, value] : child.vars) kept.insert(value);
  for (const std::string* value : removed_values) {
    if (kept.count(*value) == 0 && !NamesExistingPath(*value)) Redactor::Register(*value);
  }
  return child;
}

}  // namespace tandem::platform
