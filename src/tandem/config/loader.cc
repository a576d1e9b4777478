#include "tandem/config/loader.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tandem/base/redact.h"
#include "tandem/config/schema.h"
#include "tandem/config/trust.h"

extern char** environ;

namespace tandem::config {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxReportedIssues = 20;

struct RoleEnvVar {
  Role role;
  std::string_view name;
};
constexpr RoleEnvVar kRoleEnvVars[] = {{Role::kPlanner, "TANDEM_PLANNER_MODEL"},
                                       {Role::kExecutor, "TANDEM_EXECUTOR_MODEL"},
                                       {Role::kReviewer, "TANDEM_REVIEWER_MODEL"}};

// One problem found while loading. Problems are reported in layer order,
// then line order (toml++ iterates tables by key, not by position).
struct Issue {
  int layer;
  int line;
  std::string text;
};

std::string QuoteName(std::string_view s) { return "\"" + std::string(s) + "\""; }

// toml++ quotes the character it choked on, which may be a newline: escape
// control characters so that each problem stays on its one line.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> KeysOf(const auto& map) {
  std::vector<std::string> out;
  for (const auto& [name, unused] : map) out.push_back(name);
  return out;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best = schema::Closest(word, candidates);
  return best ? " (did you mean " + QuoteName(*best) + "?)" : "";
}

// Applies layers onto one LoadedConfig and collects every problem found.
class Builder {
 public:
  explicit Builder(LoadedConfig* out) : out_(out) {}

  void LoadFile(const std::string& path, FileLayer layer) {
    ++layer_;
    in_repo_file_ = layer == FileLayer::kRepo;
    if (in_repo_file_) {
      // What the user's own layers already have: the repository may use it, not add to it.
      repo_layer_ = layer_;
      for (const auto& [name, unused] : out_->config.providers) known_providers_.insert(name);
      for (const auto& [name, unused] : out_->config.models) known_models_.insert(name);
    }
    ConfigFile file{path, layer, false};
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (layer == FileLayer::kExtra) {
        Add(0, path + ": TANDEM_CONFIG names this file, which does not exist");
      }
      out_->files.push_back(file);
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in || fs::is_directory(path, ec)) {
      Add(0, path + ": cannot read: " +
                 (fs::is_directory(path, ec) ? "is a directory" : std::strerror(errno)));
      out_->files.push_back(file);
      return;
    }
    file.loaded = true;
    out_->files.push_back(file);
    if (in_repo_file_) {
      out_->repo_trust.path = path;
      out_->repo_trust.sha256 = Sha256Hex(content.str());  // the very bytes parsed below
      out_->repo_trust.state = RepoTrust::State::kNotNeeded;
    }
    try {
      toml::table table = toml::parse(content.str(), path);
      std::vector<std::string> key_path;
      ApplyTable(table, key_path, path);
    } catch (const toml::parse_error& e) {
      const auto& begin = e.source().begin;
      Add(static_cast<int>(begin.line), path + ":" + std::to_string(begin.line) + ":" +
                                            std::to_string(begin.column) + ": " +
                                            OneLine(e.description()));
    }
  }

  void ApplyEnv(const Env& env) {
    ++layer_;
    in_repo_file_ = false;
    for (const RoleEnvVar& var : kRoleEnvVars) {
      std::string_view value = EnvValue(env, var.name);
      if (value.empty()) continue;
      toml::value<std::string> node{std::string(value)};
      Set({"roles", std::string(RoleName(var.role))}, node,
          Origin{"environment " + std::string(var.name), 0});
    }
  }

  // "key=value": the value is typed by the key's schema. Strings are taken
  // verbatim; anything else is read as a TOML value (30, true, ["a", "b"]).
  void ApplyOverride(const std::string& text) {
    ++layer_;
    in_repo_file_ = false;
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      Add(0, "override '" + Redactor::Apply(text) + "': expected key=value");
      return;
    }
    std::string key = Trim(text.substr(0, eq));
    std::string raw = Trim(text.substr(eq + 1));
    // Someone passing providers.x.api_key=... or an Authorization header is
    // passing a secret: never echo it.
    bool secret =
        (key.find("key") != std::string::npos && key.find("key_env") == std::string::npos) ||
        key.find("headers") != std::string::npos;
    Origin origin{"override '" + key + "=" + (secret ? "..." : Redactor::Apply(raw)) + "'", 0};
    std::vector<std::string> path = schema::SplitPath(key);
    const schema::KeySpec* spec = schema::FindKey(path, nullptr);
    bool textual =
        spec && (spec->kind == schema::Kind::kString || spec->kind == schema::Kind::kUrl ||
                 spec->kind == schema::Kind::kEnvName || spec->kind == schema::Kind::kEnum);
    if (!textual) {
      try {
        toml::table parsed = toml::parse("v = " + raw);
        if (const toml::node* node = parsed.get("v")) {
          Set(path, *node, origin);
          return;
        }
      } catch (const toml::parse_error&) {
        // Not a TOML value: treat it as a string, so the error (if any) is a type error.
      }
    }
    if (textual && raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      raw = raw.substr(1, raw.size() - 2);
    }
    Set(path, toml::value<std::string>{raw}, origin);
  }

  // Cross-references, checked once every layer is in.
  void Finalize() {
    Config& config = out_->config;
    for (auto& [name, provider] : config.providers) {
      provider.settings.name = name;
      if (provider.settings.base_url.empty()) {
        AddAt(out_->OriginOf("providers." + schema::JoinPath({name})),
              schema::JoinPath({"providers", name, "base_url"}), "required key is missing");
      }
    }
    std::vector<std::string> provider_names = KeysOf(config.providers);
    for (auto& [name, model] : config.models) {
      if (model.id.empty()) model.id = name;
      std::string key = schema::JoinPath({"models", name, "provider"});
      if (model.provider.empty()) {
        AddAt(out_->OriginOf(schema::JoinPath({"models", name})), key, "required key is missing");
        continue;
      }
      auto provider = config.providers.find(model.provider);
      if (provider == config.providers.end()) {
        AddAt(out_->OriginOf(key), key,
              "expected the name of a provider defined under [providers], found " +
                  QuoteName(model.provider) + DidYouMean(model.provider, provider_names));
        continue;
      }
      if (model.fast_mode && provider->second.settings.wire != providers::WireFormat::kAnthropic) {
        std::string fast_key = schema::JoinPath({"models", name, "fast_mode"});
        AddAt(out_->OriginOf(fast_key), fast_key,
              "fast_mode needs a provider with wire = \"anthropic\", but provider " +
                  QuoteName(model.provider) + " uses wire " +
                  QuoteName(ToString(provider->second.settings.wire)));
      }
    }
    for (const auto& [name, server] : config.mcp_servers) {
      // The name becomes part of tool names (mcp__NAME__TOOL), which providers
      // limit to [A-Za-z0-9_-] and 64 characters.
      bool valid_name = !name.empty() && name.size() <= 32 && name.find("__") == std::string::npos &&
                        std::all_of(name.begin(), name.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                        });
      std::string table = schema::JoinPath({"mcp_servers", name});
      if (!valid_name) {
        AddAt(out_->OriginOf(table), table,
              "an MCP server's name is 1-32 letters, digits, '_' or '-' (no \"__\")");
      }
      if (server.command.empty()) {
        AddAt(out_->OriginOf(table), schema::JoinPath({"mcp_servers", name, "command"}),
              "required key is missing");
      }
      if (server.cwd.starts_with("/") || server.cwd.find("..") != std::string::npos) {
        std::string key = schema::JoinPath({"mcp_servers", name, "cwd"});
        AddAt(out_->OriginOf(key), key, "expected a path inside the repository, relative to its root");
      }
    }
    std::vector<std::string> model_names = KeysOf(config.models);
    for (const auto& [name, pool] : config.pools) {
      std::string table = schema::JoinPath({"pools", name});
      std::string key = schema::JoinPath({"pools", name, "models"});
      if (config.models.count(name)) {
        AddAt(out_->OriginOf(table), table,
              "a pool may not share its name with a model under [models] (a role names either)");
      }
      if (pool.models.empty()) {
        AddAt(out_->OriginOf(table), key, "expected the names of one or more models, found none");
        continue;
      }
      bool any_within = false;
      for (const std::string& member : pool.models) {
        auto model = config.models.find(member);
        if (model == config.models.end()) {
          AddAt(out_->OriginOf(key), key,
                "expected the name of a model defined under [models], found " +
                    QuoteName(member) + DidYouMean(member, model_names));
          any_within = true;  // one error is enough
          continue;
        }
        any_within |= WithinPriceLimits(pool, model->second);
      }
      if (!any_within) {
        AddAt(out_->OriginOf(table), table,
              "no model of the pool is within its max_price_input / max_price_output");
      }
    }
    for (Role role : kAllRoles) {
      const std::string& model = config.roles.Get(role);
      if (model.empty() || config.models.count(model) || config.pools.count(model)) continue;
      std::string key = "roles." + std::string(RoleName(role));
      std::vector<std::string> names = model_names;
      for (const auto& [pool, unused] : config.pools) names.push_back(pool);
      AddAt(out_->OriginOf(key), key,
            "expected the name of a model defined under [models] or a pool under [pools], "
            "found " + QuoteName(model) + DidYouMean(model, names));
    }
  }

  // Refuses the repository file's trust-gated keys unless the user trusted
  // its bytes (or `inputs` says to load it anyway). Runs once every layer is
  // in and well-formed.
  void CheckTrust(const ConfigInputs& inputs) {
    RepoTrust& trust = out_->repo_trust;
    if (trust.gated.empty()) return;
    std::stable_sort(
        trust.gated.begin(), trust.gated.end(),
        [](const GatedKey& a, const GatedKey& b) { return a.origin.line < b.origin.line; });
    trust.git_dir = RepositoryId(inputs.repo_root);
    std::vector<TrustedRepo> entries;
    if (std::string store = TrustStorePath(inputs); !store.empty()) {
      Result<std::vector<TrustedRepo>> read = ReadTrustStore(store);
      if (!read) {
        Add(0, read.error().message());
        return;
      }
      entries = std::move(*read);
    }
    trust.state = Evaluate(entries, TrustedPart::kConfig, trust.git_dir, trust.sha256);
    if (trust.state == RepoTrust::State::kTrusted || !inputs.refuse_untrusted) return;
    std::string headline =
        trust.state == RepoTrust::State::kChanged
            ? trust.path +
                  ": changed since you trusted it, and it sets keys that only you may "
                  "set (below); review it, then run `tandem trust` to trust it as it is now"
            : trust.path +
                  ": this repository's own configuration is not trusted, and it sets keys "
                  "that only you may set (below); review it, then run `tandem trust` to "
                  "trust it as it is now (any later change asks again), or set them in " +
                  UserConfigPath(inputs) + " instead";
    issues_.push_back({repo_layer_, 0, headline});
    for (const GatedKey& gated : trust.gated) {
      issues_.push_back({repo_layer_, gated.origin.line,
                         gated.origin.ToString() + ": " + gated.key + ": " + gated.reason});
    }
  }

  Status Finish() {
    if (issues_.empty()) return Status::Ok();
    std::stable_sort(issues_.begin(), issues_.end(), [](const Issue& a, const Issue& b) {
      return a.layer != b.layer ? a.layer < b.layer : a.line < b.line;
    });
    std::string message;
    for (size_t i = 0; i < issues_.size() && i < kMaxReportedIssues; ++i) {
      if (i) message += '\n';
      message += issues_[i].text;
    }
    if (issues_.size() > kMaxReportedIssues) {
      message += "\n(" + std::to_string(issues_.size() - kMaxReportedIssues) + " more)";
    }
    return InvalidArgument(message);
  }

  bool HasIssues() const { return !issues_.empty(); }

 private:
  static std::string Trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    size_t e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }

  void Add(int line, std::string text) { issues_.push_back({layer_, line, std::move(text)}); }

  void AddAt(const Origin& origin, const std::string& key, const std::string& text) {
    Add(origin.line, origin.ToString() + ": " + key + ": " + text);
  }

  void ApplyTable(const toml::table& table, std::vector<std::string>& path,
                  const std::string& file) {
    for (auto&& [key, node] : table) {
      path.emplace_back(key.str());
      Origin origin{file, static_cast<int>(node.source().begin.line)};
      const toml::table* sub = node.as_table();
      if (sub && schema::IsTablePath(path)) {
        DeclareEntity(path, origin);
        ApplyTable(*sub, path, file);
      } else {
        Set(path, node, origin);
      }
      path.pop_back();
    }
  }

  // [providers.NAME], [models.NAME] and [mcp_servers.NAME] exist once declared, even when empty,
  // so that a declaration missing its required keys is reported.
  void DeclareEntity(const std::vector<std::string>& path, const Origin& origin) {
    if (path.size() < 2) return;
    if (path[0] == "providers") {
      out_->config.providers[path[1]];
    } else if (path[0] == "models") {
      out_->config.models[path[1]];
    } else if (path[0] == "mcp_servers") {
      out_->config.mcp_servers[path[1]];
    } else if (path[0] == "pools") {
      out_->config.pools[path[1]];
    } else {
      return;
    }
    out_->origins.emplace(schema::JoinPath({path[0], path[1]}), origin);
  }

  void Set(const std::vector<std::string>& path, const toml::node& node, const Origin& origin) {
    std::string key = schema::JoinPath(path);
    std::vector<std::string> names;
    const schema::KeySpec* spec = schema::FindKey(path, &names);
    if (!spec) {
      if (schema::IsTablePath(path)) {
        AddAt(origin, key, "expected a table, found " + schema::Describe(node));
      } else if (path.size() == 3 && path[0] == "providers" && path[2] == "api_key") {
        AddAt(origin, key,
              "unknown key: tandem never reads API keys from files; export the key in an "
              "environment variable and name that variable with api_key_env");
      } else {
        std::optional<std::string> suggestion = schema::SuggestKey(path);
        AddAt(
            origin, key,
            "unknown key" + (suggestion ? " (did you mean " + *suggestion + "?)" : std::string()));
      }
      return;
    }
    schema::Value value;
    std::string error;
    if (!schema::Convert(*spec, node, &value, &error)) {
      AddAt(origin, key, error);
      return;
    }
    if (path.size() == 4 && path[2] == "headers" && schema::IsCredentialHeader(path[3], value.s)) {
      AddAt(origin, key,
            "a header that carries a credential: tandem never reads keys from files or flags; "
            "export the key in an environment variable and name that variable with api_key_env");
      return;
    }
    if (in_repo_file_) NoteGated(path, key, origin);
    DeclareEntity(path, origin);
    spec->set(out_->config, names, value);
    out_->origins[key] = origin;
  }

  // Records `path` when the repository file may set it only with the
  // user's trust. A provider or model the user does not have is recorded
  // once, as the entity ("models.NAME"), at the line of its first key.
  void NoteGated(const std::vector<std::string>& path, const std::string& key,
                 const Origin& origin) {
    std::vector<GatedKey>& gated = out_->repo_trust.gated;
    bool provider = path[0] == "providers";
    if ((provider && !known_providers_.count(path[1])) ||
        (path[0] == "models" && !known_models_.count(path[1]))) {
      std::string entity = schema::JoinPath({path[0], path[1]});
      auto noted = std::find_if(gated.begin(), gated.end(),
                                [&](const GatedKey& g) { return g.key == entity; });
      if (noted == gated.end()) {
        gated.push_back({entity, origin,
                         provider ? "declares a provider that your own configuration does not have"
                                  : "declares a model that your own configuration does not have"});
      } else if (origin.line < noted->origin.line) {
        noted->origin = origin;  // keys arrive in name order, not line order
      }
      return;
    }
    if (std::optional<std::string_view> reason = schema::TrustGateReason(path)) {
      gated.push_back({key, origin, std::string(*reason)});
    }
  }

  LoadedConfig* out_;
  int layer_ = 0;
  std::vector<Issue> issues_;
  bool in_repo_file_ = false;  // the values being applied come from the repository file
  int repo_layer_ = 0;
  std::set<std::string, std::less<>> known_providers_;  // before the repository file
  std::set<std::string, std::less<>> known_models_;
};

}  // namespace

std::string Origin::ToString() const {
  return line > 0 ? source + ":" + std::to_string(line) : source;
}

std::string_view ToString(FileLayer layer) {
  switch (layer) {
    case FileLayer::kUser:
      return "user";
    case FileLayer::kRepo:
      return "repo";
    case FileLayer::kExtra:
      return "TANDEM_CONFIG";
  }
  return "?";
}

std::string_view ToString(RepoTrust::State state) {
  switch (state) {
    case RepoTrust::State::kNoFile:
      return "no repository configuration";
    case RepoTrust::State::kNotNeeded:
      return "sets no key that needs trust";
    case RepoTrust::State::kTrusted:
      return "trusted";
    case RepoTrust::State::kUntrusted:
      return "not trusted";
    case RepoTrust::State::kChanged:
      return "changed since you trusted it";
  }
  return "?";
}

Origin LoadedConfig::OriginOf(std::string_view key) const {
  auto it = origins.find(key);
  return it == origins.end() ? Origin{"built-in", 0} : it->second;
}

Env ProcessEnv() {
  Env env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::string FindRepoRoot(std::string_view start_dir) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(start_dir), ec);
  if (ec) return "";
  while (true) {
    if (fs::exists(dir / ".git", ec)) return dir.string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) return "";
    dir = dir.parent_path();
  }
}

std::string UserConfigPath(const ConfigInputs& inputs) {
  std::string_view xdg = EnvValue(inputs.env, "XDG_CONFIG_HOME");
  if (!xdg.empty() && xdg.front() == '/') return std::string(xdg) + "/tandem/config.toml";
  std::string home = inputs.home.empty() ? std::string(EnvValue(inputs.env, "HOME")) : inputs.home;
  if (home.empty()) return "";
  return home + "/.config/tandem/config.toml";
}

std::string RepoConfigPath(const ConfigInputs& inputs) {
  if (inputs.repo_root.empty()) return "";
  return inputs.repo_root + "/.tandem/config.toml";
}

Result<LoadedConfig> LoadConfig(const ConfigInputs& inputs) {
  LoadedConfig loaded;
  loaded.config = DefaultConfig();
  Builder builder(&loaded);
  if (std::string path = UserConfigPath(inputs); !path.empty()) {
    builder.LoadFile(path, FileLayer::kUser);
  }
  if (std::string path = RepoConfigPath(inputs); !path.empty()) {
    builder.LoadFile(path, FileLayer::kRepo);
  }
  std::string extra = inputs.extra_file.empty() ? std::string(EnvValue(inputs.env, "TANDEM_CONFIG"))
                                                : inputs.extra_file;
  if (!extra.empty()) builder.LoadFile(extra, FileLayer::kExtra);
  builder.ApplyEnv(inputs.env);
  for (const std::string& text : inputs.overrides) builder.ApplyOverride(text);
  // Cross-references are only meaningful once every value is well-formed,
  // and trust once the file is otherwise valid.
  if (!builder.HasIssues()) builder.Finalize();
  if (!builder.HasIssues()) builder.CheckTrust(inputs);
  RETURN_IF_ERROR(builder.Finish());
  loaded.config.skills.home =
      inputs.home.empty() ? std::string(EnvValue(inputs.env, "HOME")) : inputs.home;
  return loaded;
}

}  // namespace tandem::config
