#include "tandem/config/schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "tandem/base/redact.h"
#include "tandem/base/scope_glob.h"
#include "tandem/base/strings.h"

namespace tandem::config::schema {
namespace {

using providers::ProviderSettings;

constexpr double kDay = 86400000;  // ms; the ceiling of every timeout

// Assigns a converted value to a field of whatever type it has.
template <typename T>
void Assign(T& field, const Value& v) {
  if constexpr (std::is_same_v<T, bool>) {
    field = v.b;
  } else if constexpr (std::is_same_v<T, double>) {
    field = v.d;
  } else if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(v.i);  // the key's range keeps it within T
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    field = v.list;
  } else {
    field = v.s;
  }
}

// Setter factories, so that each key is one line of the table.
template <auto Member>
Setter ProviderField() {
  return [](Config& c, const std::vector<std::string>& n, const Value& v) {
    Assign(c.providers[n[0]].settings.*Member, v);
  };
}
template <auto Member>
Setter ProviderLimit() {
  return [](Config& c, const std::vector<std::string>& n, const Value& v) {
    Assign(c.providers[n[0]].settings.limits.*Member, v);
  };
}
template <auto Member>
Setter ModelField() {
  return [](Config& c, const std::vector<std::string>& n, const Value& v) {
    Assign(c.models[n[0]].*Member, v);
  };
}
template <auto Member>
Setter PoolField() {
  return [](Config& c, const std::vector<std::string>& n, const Value& v) {
    Assign(c.pools[n[0]].*Member, v);
  };
}
template <auto Member>
Setter McpField() {
  return [](Config& c, const std::vector<std::string>& n, const Value& v) {
    Assign(c.mcp_servers[n[0]].*Member, v);
  };
}
template <auto Section, auto Member>
Setter Field() {
  return [](Config& c, const std::vector<std::string>&, const Value& v) {
    Assign(c.*Section.*Member, v);
  };
}
template <auto Section, auto Member, auto Parse>
Setter EnumField() {
  return [](Config& c, const std::vector<std::string>&, const Value& v) {
    c.*Section.*Member = *Parse(v.s);  // Convert admitted only valid choices
  };
}

void SetWire(Config& c, const std::vector<std::string>& n, const Value& v) {
  c.providers[n[0]].settings.wire = *ParseWireFormat(v.s);
}
void SetApiKeyEnv(Config& c, const std::vector<std::string>& n, const Value& v) {
  c.providers[n[0]].api_key_env = v.s;
}
void SetEnvironment(Config& c, const std::vector<std::string>& n, const Value& v) {
  c.environment.set[n[0]] = v.s;
}
void SetReviewPolicy(Config& c, const std::vector<std::string>&, const Value& v) {
  std::string joined;
  for (const std::string& name : v.list) joined += (joined.empty() ? "" : ",") + name;
  c.review.policy = *protocol::ParseReviewPolicy(joined);  // Convert admitted only valid lists
}
void SetHeader(Config& c, const std::vector<std::string>& n, const Value& v) {
  c.providers[n[0]].settings.headers[n[1]] = v.s;
}

KeySpec Text(std::string_view pattern, Kind kind, Setter set) {
  return {pattern, kind, 0, 0, false, {}, set};
}
KeySpec Choice(std::string_view pattern, std::vector<std::string_view> choices, Setter set) {
  return {pattern, Kind::kEnum, 0, 0, false, std::move(choices), set};
}
KeySpec Int(std::string_view pattern, double min, double max, Setter set) {
  return {pattern, Kind::kInt, min, max, false, {}, set};
}
// A number >= 0, or > 0 when `positive`.
KeySpec Number(std::string_view pattern, bool positive, Setter set) {
  return {pattern, Kind::kNumber, 0, 0, positive, {}, set};
}
KeySpec Bool(std::string_view pattern, Setter set) {
  return {pattern, Kind::kBool, 0, 0, false, {}, set};
}

constexpr double kBig = 1e12;  // "no upper bound" that still fits every field

const std::vector<KeySpec>& Table() {
  using P = ProviderSettings;
  using M = ModelConfig;
  using G = Guardrails;
  static const std::vector<KeySpec> table = {
      // [providers.NAME]
      Choice("providers.*.wire", {"openai", "anthropic"}, SetWire),
      Text("providers.*.base_url", Kind::kUrl, ProviderField<&P::base_url>()),
      Text("providers.*.api_key_env", Kind::kEnvName, SetApiKeyEnv),
      Text("providers.*.headers.*", Kind::kString, SetHeader),
      Int("providers.*.connect_timeout_ms", 1, kDay, ProviderField<&P::connect_timeout_ms>()),
      Int("providers.*.idle_timeout_ms", 1, kDay, ProviderField<&P::idle_timeout_ms>()),
      Int("providers.*.request_timeout_ms", 1, kDay, ProviderField<&P::request_timeout_ms>()),
      Int("providers.*.max_concurrent_requests", 0, 4096,
          ProviderLimit<&providers::RateLimits::max_concurrent_requests>()),
      Int("providers.*.requests_per_minute", 0, 1e9,
          ProviderLimit<&providers::RateLimits::requests_per_minute>()),
      Int("providers.*.tokens_per_minute", 0, kBig,
          ProviderLimit<&providers::RateLimits::tokens_per_minute>()),
      Int("providers.*.max_retries", 0, 100, ProviderField<&P::max_retries>()),
      Int("providers.*.max_retry_after_ms", 0, kDay, ProviderField<&P::max_retry_after_ms>()),
      Int("providers.*.max_rate_limit_wait_ms", 0, kDay,
          ProviderField<&P::max_rate_limit_wait_ms>()),
      Bool("providers.*.send_max_tokens", ProviderField<&P::send_max_tokens>()),
      // [models.NAME]
      Text("models.*.provider", Kind::kString, ModelField<&M::provider>()),
      Text("models.*.id", Kind::kString, ModelField<&M::id>()),
      Int("models.*.context_window", 1, kBig, ModelField<&M::context_window>()),
      Number("models.*.price_input", false, ModelField<&M::price_input>()),
      Number("models.*.price_output", false, ModelField<&M::price_output>()),
      Number("models.*.price_cached_input", false, ModelField<&M::price_cached_input>()),
      Int("models.*.max_output_tokens", 1, kBig, ModelField<&M::max_output_tokens>()),
      Bool("models.*.tools", ModelField<&M::tools>()),
      Bool("models.*.fast_mode", ModelField<&M::fast_mode>()),
      // [pools.NAME]
      Text("pools.*.models", Kind::kStringArray, PoolField<&PoolConfig::models>()),
      Number("pools.*.max_price_input", false, PoolField<&PoolConfig::max_price_input>()),
      Number("pools.*.max_price_output", false, PoolField<&PoolConfig::max_price_output>()),
      // [roles]
      Text("roles.planner", Kind::kString, Field<&Config::roles, &Roles::planner>()),
      Text("roles.executor", Kind::kString, Field<&Config::roles, &Roles::executor>()),
      Text("roles.reviewer", Kind::kString, Field<&Config::roles, &Roles::reviewer>()),
      // [limits]
      Int("limits.max_steps", 1, kBig, Field<&Config::limits, &Limits::max_steps>()),
      Int("limits.max_tokens", 1, kBig, Field<&Config::limits, &Limits::max_tokens>()),
      Number("limits.max_cost_usd", true, Field<&Config::limits, &Limits::max_cost_usd>()),
      Int("limits.max_wall_s", 1, kBig, Field<&Config::limits, &Limits::max_wall_s>()),
      Int("limits.step_retries", 0, 100, Field<&Config::limits, &Limits::step_retries>()),
      Int("limits.context_tokens", 1000, kBig, Field<&Config::limits, &Limits::context_tokens>()),
      Int("limits.parallel_tasks", 0, 64, Field<&Config::limits, &Limits::parallel_tasks>()),
      Int("limits.jobs", 0, 4096, Field<&Config::limits, &Limits::jobs>()),
      // [guardrails]
      Bool("guardrails.allow_delete", Field<&Config::guardrails, &G::allow_delete>()),
      Int("guardrails.max_lines_per_step", 1, kBig,
          Field<&Config::guardrails, &G::max_lines_per_step>()),
      Int("guardrails.max_files_per_step", 1, kBig,
          Field<&Config::guardrails, &G::max_files_per_step>()),
      Int("guardrails.max_lines_per_task", 1, kBig,
          Field<&Config::guardrails, &G::max_lines_per_task>()),
      Int("guardrails.max_files_per_task", 1, kBig,
          Field<&Config::guardrails, &G::max_files_per_task>()),
      Text("guardrails.scope", Kind::kScopeList, Field<&Config::guardrails, &G::scope>()),
      Choice("guardrails.command_policy", {"refuse-risky", "allow-all"},
             EnumField<&Config::guardrails, &G::command_policy, &ParseCommandPolicy>()),
      // [sandbox]
      Choice("sandbox.mode", {"auto", "bwrap", "none"},
             EnumField<&Config::sandbox, &Sandbox::mode, &ParseSandboxMode>()),
      Choice("sandbox.on_unavailable", {"refuse", "run-unsandboxed"},
             EnumField<&Config::sandbox, &Sandbox::on_unavailable, &ParseOnUnavailable>()),
      Bool("sandbox.network", Field<&Config::sandbox, &Sandbox::network>()),
      Text("sandbox.home_dirs", Kind::kHomeDirList, Field<&Config::sandbox, &Sandbox::home_dirs>()),
      // [environment]
      Text("environment.include", Kind::kEnvPatternArray,
           Field<&Config::environment, &Environment::include>()),
      Text("environment.exclude", Kind::kEnvPatternArray,
           Field<&Config::environment, &Environment::exclude>()),
      Text("environment.set.*", Kind::kString, SetEnvironment),
      // [mcp_servers.NAME]
      Text("mcp_servers.*.command", Kind::kString, McpField<&McpServer::command>()),
      Text("mcp_servers.*.args", Kind::kStringArray, McpField<&McpServer::args>()),
      Text("mcp_servers.*.env", Kind::kEnvNameArray, McpField<&McpServer::env>()),
      Text("mcp_servers.*.cwd", Kind::kString, McpField<&McpServer::cwd>()),
      Bool("mcp_servers.*.enabled", McpField<&McpServer::enabled>()),
      Text("mcp_servers.*.enabled_tools", Kind::kStringArray, McpField<&McpServer::enabled_tools>()),
      Text("mcp_servers.*.disabled_tools", Kind::kStringArray,
           McpField<&McpServer::disabled_tools>()),
      Int("mcp_servers.*.start_timeout_ms", 1, kDay, McpField<&McpServer::start_timeout_ms>()),
      Int("mcp_servers.*.call_timeout_ms", 1, kDay, McpField<&McpServer::call_timeout_ms>()),
      Bool("mcp_servers.*.network", McpField<&McpServer::network>()),
      // [skills]
      Bool("skills.enabled", Field<&Config::skills, &Skills::enabled>()),
      Int("skills.max_injected", 0, 20, Field<&Config::skills, &Skills::max_injected>()),
      Int("skills.token_budget", 0, 100000, Field<&Config::skills, &Skills::token_budget>()),
      Number("skills.min_score", false, Field<&Config::skills, &Skills::min_score>()),
      {"skills.flag_failure_share", Kind::kNumber, 0, 1, false, {},
       Field<&Config::skills, &Skills::flag_failure_share>()},
      Int("skills.flag_min_replays", 1, 1000, Field<&Config::skills, &Skills::flag_min_replays>()),
      Choice("skills.capture", {"off", "ask", "auto"},
             EnumField<&Config::skills, &Skills::capture, &ParseCaptureMode>()),
      // [review]
      {"review.policy", Kind::kReviewPolicy, 0, 0, false, {}, SetReviewPolicy},
      Int("review.large_lines", 0, kBig, Field<&Config::review, &Review::large_lines>()),
      // [commit]
      Bool("commit.enabled", Field<&Config::commit, &Commit::enabled>()),
      Text("commit.author", Kind::kString, Field<&Config::commit, &Commit::author>()),
      // [fanout]
      Bool("fanout.tournament", Field<&Config::fanout, &Fanout::tournament>()),
      // [approval]
      Choice("approval.policy", {"ask", "deny", "approve"},
             EnumField<&Config::approval, &Approval::policy, &ParseApprovalPolicy>()),
  };
  return table;
}

// The table's patterns split once.
const std::vector<std::vector<std::string>>& SplitPatterns() {
  static const std::vector<std::vector<std::string>> split = [] {
    std::vector<std::vector<std::string>> out;
    for (const KeySpec& spec : Table()) out.push_back(SplitPath(spec.pattern));
    return out;
  }();
  return split;
}

bool PrefixMatches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   size_t count, std::vector<std::string>* names) {
  if (pattern.size() < count || path.size() < count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (pattern[i] == "*") {
      if (names) names->push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

bool IsBareKey(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string FormatNumber(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  std::string s = buf;
  if (s.find_first_of(".eninf") == std::string::npos) s += ".0";
  return s;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Optimal string alignment distance: a transposition ("inptu") costs 1.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool InRange(const KeySpec& spec, double v) {
  if (spec.min == 0 && spec.max == 0 && !spec.min_exclusive) {
    return spec.kind != Kind::kNumber || v >= 0;  // prices: >= 0
  }
  if (spec.min_exclusive ? v <= spec.min : v < spec.min) return false;
  return spec.max == 0 || v <= spec.max;
}

struct TrustGate {
  std::string_view prefix;  // dotted; "*" matches one name; covers every key below it
  std::string_view reason;
};

// The keys a repository's own file may set only with the user's trust.
constexpr TrustGate kTrustGates[] = {
    {"providers.*.base_url", "decides where requests and your API key go"},
    {"providers.*.wire", "decides how your API key is sent"},
    {"providers.*.api_key_env", "decides which secret from your environment is sent"},
    {"providers.*.headers", "adds headers to every request"},
    {"models.*.provider", "moves a model, and what you send it, to another provider"},
    {"models.*.id", "changes which model your key pays for"},
    {"guardrails.command_policy", "decides which commands may run"},
    {"sandbox", "decides how commands are contained"},
    {"approval", "decides what runs without your approval"},
    {"review", "decides which changes the reviewer reads before they count as done"},
    {"commit", "commits to your branch"},
    {"environment", "decides which of your environment variables commands see"},
    {"mcp_servers", "starts a program of its choice, with variables from your environment"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A run of 20 or more letters and digits holding both: a token, not a word.
bool HasTokenRun(std::string_view value) {
  size_t run = 0;
  bool letter = false;
  bool digit = false;
  for (char c : value) {
    bool is_letter = std::isalpha(static_cast<unsigned char>(c)) != 0;
    bool is_digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (!is_letter && !is_digit) {
      run = 0;
      letter = digit = false;
      continue;
    }
    ++run;
    letter |= is_letter;
    digit |= is_digit;
    if (run >= 20 && letter && digit) return true;
  }
  return false;
}

}  // namespace

std::span<const KeySpec> Keys() { return Table(); }

std::optional<std::string_view> TrustGateReason(const std::vector<std::string>& path) {
  static const std::vector<std::vector<std::string>> prefixes = [] {
    std::vector<std::vector<std::string>> out;
    for (const TrustGate& gate : kTrustGates) out.push_back(SplitPath(gate.prefix));
    return out;
  }();
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (PrefixMatches(prefixes[i], path, prefixes[i].size(), nullptr)) {
      return kTrustGates[i].reason;
    }
  }
  return std::nullopt;
}

bool IsCredentialHeader(std::string_view name, std::string_view value) {
  std::string lower_name = Lower(name);
  for (std::string_view word :
       {"auth", "key", "token", "secret", "cookie", "session", "password", "credential"}) {
    if (lower_name.find(word) != std::string::npos) return true;
  }
  std::string lower_value = Lower(TrimSpace(value));
  if (lower_value.rfind("bearer ", 0) == 0 || lower_value.rfind("basic ", 0) == 0) return true;
  return Redactor::Apply(value) != value || HasTokenRun(value);
}

const KeySpec* FindKey(const std::vector<std::string>& path, std::vector<std::string>* names) {
  const auto& patterns = SplitPatterns();
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (patterns[i].size() != path.size()) continue;
    std::vector<std::string> captured;
    if (PrefixMatches(patterns[i], path, path.size(), &captured)) {
      if (names) *names = std::move(captured);
      return &Table()[i];
    }
  }
  return nullptr;
}

bool IsTablePath(const std::vector<std::string>& path) {
  for (const auto& pattern : SplitPatterns()) {
    if (pattern.size() > path.size() && PrefixMatches(pattern, path, path.size(), nullptr)) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> SuggestKey(const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  size_t last = path.size() - 1;
  std::vector<std::string> candidates;
  for (const auto& pattern : SplitPatterns()) {
    if (pattern.size() > last && pattern[last] != "*" &&
        PrefixMatches(pattern, path, last, nullptr)) {
      candidates.push_back(pattern[last]);
    }
  }
  std::optional<std::string> best = Closest(path[last], candidates);
  if (!best) return std::nullopt;
  std::vector<std::string> suggestion = path;
  suggestion[last] = *best;
  return JoinPath(suggestion);
}

std::optional<std::string> Closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  // A third of the word may be wrong, at least one character.
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    // The distance is at least the difference in length: skip the O(n*m)
    // table for a long (say, pasted) word that cannot be close.
    size_t gap = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (gap >= best_distance) continue;
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best) return best;
  // A shortened name, e.g. max_concurrent for max_concurrent_requests.
  for (const std::string& c : candidates) {
    if (c.size() > word.size() && c.starts_with(word) && c[word.size()] == '_') return c;
  }
  return best;
}

std::string Expected(const KeySpec& spec) {
  auto range = [&](const std::string& what) {
    if (spec.min == 0 && spec.max == 0 && !spec.min_exclusive) {
      return spec.kind == Kind::kNumber ? what + " >= 0" : what;
    }
    char lo_buf[32];
    std::snprintf(lo_buf, sizeof lo_buf, "%g", spec.min);
    std::string lo = lo_buf;
    if (spec.min_exclusive) return what + " > " + lo;
    // Ceilings far above any sane value only guard overflow: not worth saying.
    if (spec.max == 0 || spec.max >= 1e9) return what + " >= " + lo;
    return what + " between " + lo + " and " + std::to_string(static_cast<int64_t>(spec.max));
  };
  switch (spec.kind) {
    case Kind::kString:
      return "a string";
    case Kind::kUrl:
      return "an http:// or https:// URL";
    case Kind::kEnvName:
      return "the name of an environment variable (like CEREBRAS_API_KEY)";
    case Kind::kEnum: {
      std::string out = "one of ";
      for (size_t i = 0; i < spec.choices.size(); ++i) {
        if (i) out += ", ";
        out += Quote(spec.choices[i]);
      }
      return out;
    }
    case Kind::kInt:
      return range("an integer");
    case Kind::kNumber:
      return range("a number");
    case Kind::kBool:
      return "true or false";
    case Kind::kScopeList:
      return "an array of path globs relative to the repository root";
    case Kind::kHomeDirList:
      return "an array of paths relative to the home directory, without '..'";
    case Kind::kEnvPatternArray:
      return "an array of variable names, each maybe ending in '*' (like \"LC_*\")";
    case Kind::kEnvNameArray:
      return "an array of variable names (like \"GITHUB_TOKEN\"), never values";
    case Kind::kStringArray:
      return "an array of strings";
    case Kind::kReviewPolicy:
      return "never, always, irreversible, large, or a list of them: \"irreversible,large\" "
             "or [\"irreversible\", \"large\"]";
  }
  return "?";
}

std::string Describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: {
      std::string text = Redactor::Apply(node.as_string()->get());
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      return "string " + Quote(text);
    }
    case toml::node_type::integer:
      return "integer " + std::to_string(*node.value<int64_t>());
    case toml::node_type::floating_point:
      return "float " + FormatNumber(*node.value<double>());
    case toml::node_type::boolean:
      return *node.value<bool>() ? "boolean true" : "boolean false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

bool Convert(const KeySpec& spec, const toml::node& node, Value* out, std::string* error) {
  auto fail = [&](std::string found) {
    *error = "expected " + Expected(spec) + ", found " + std::move(found);
    return false;
  };
  switch (spec.kind) {
    case Kind::kString:
    case Kind::kUrl:
    case Kind::kEnvName:
    case Kind::kEnum: {
      if (!node.is_string()) return fail(Describe(node));
      std::string s = node.as_string()->get();
      if (spec.kind == Kind::kUrl && s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
        return fail(Describe(node));
      }
      if (spec.kind == Kind::kEnvName && !IsEnvName(s)) {
        // Never echo it: people paste the key itself here.
        return fail(
            "a string that is not a variable name (the key itself belongs in the "
            "environment, never in a file)");
      }
      if (spec.kind == Kind::kEnum &&
          std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
        return fail(Describe(node));
      }
      out->s = std::move(s);
      return true;
    }
    case Kind::kInt: {
      if (!node.is_integer()) return fail(Describe(node));
      int64_t v = *node.value<int64_t>();
      if (!InRange(spec, static_cast<double>(v))) return fail(Describe(node));
      out->i = v;
      return true;
    }
    case Kind::kNumber: {
      if (!node.is_number()) return fail(Describe(node));
      double v = *node.value<double>();
      if (!std::isfinite(v) || !InRange(spec, v)) return fail(Describe(node));
      out->d = v;
      return true;
    }
    case Kind::kBool: {
      if (!node.is_boolean()) return fail(Describe(node));
      out->b = *node.value<bool>();
      return true;
    }
    case Kind::kReviewPolicy: {
      out->list.clear();
      std::string joined;
      if (node.is_string()) {
        joined = node.as_string()->get();
      } else if (const toml::array* array = node.as_array()) {
        for (const toml::node& element : *array) {
          if (!element.is_string()) return fail("an array containing " + Describe(element));
          joined += (joined.empty() ? "" : ",") + element.as_string()->get();
        }
      } else {
        return fail(Describe(node));
      }
      auto policy = protocol::ParseReviewPolicy(joined);
      if (!policy) {
        *error = policy.error().message();
        return false;
      }
      out->list = {joined};
      return true;
    }
    case Kind::kScopeList:
    case Kind::kHomeDirList:
    case Kind::kEnvPatternArray:
    case Kind::kEnvNameArray:
    case Kind::kStringArray: {
      const toml::array* array = node.as_array();
      if (!array) return fail(Describe(node));
      out->list.clear();
      for (const toml::node& element : *array) {
        if (!element.is_string()) return fail("an array containing " + Describe(element));
        std::string s = element.as_string()->get();
        if (spec.kind == Kind::kScopeList) {
          if (auto problem = ScopeGlobProblem(s)) {
            return fail("an array containing " + Describe(element) + " (" + *problem + ")");
          }
        } else if (spec.kind == Kind::kHomeDirList) {
          if (s.empty() || s[0] == '/' || s[0] == '~' || s.find("..") != std::string::npos) {
            return fail("an array containing " + Describe(element));
          }
        } else if (spec.kind == Kind::kEnvNameArray) {
          // Never echo it: a value pasted here may be a secret.
          if (!IsEnvName(s)) return fail("an array containing a string that is not a variable name");
        } else if (spec.kind == Kind::kEnvPatternArray) {
          std::string_view name = s;
          if (name.ends_with('*')) name.remove_suffix(1);
          if (!IsEnvName(name)) return fail("an array containing " + Describe(element));
        }
        out->list.push_back(std::move(s));
      }
      return true;
    }
  }
  return fail(Describe(node));
}

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& segment : path) {
    if (!out.empty()) out += '.';
    out += IsBareKey(segment) ? segment : Quote(segment);
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view key) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  for (char c : key) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '.' && !quoted) {
      out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(std::move(current));
  return out;
}

}  // namespace tandem::config::schema
