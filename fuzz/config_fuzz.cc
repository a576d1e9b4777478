// libFuzzer target for configuration loading: a TOML file (the
// TANDEM_CONFIG layer, read from a temp file) checked against the schema,
// plus `key=value` command-line overrides.
//
// Input: the file's text, optionally followed by "\n%%\n" and one override
// per line. Properties checked beyond "no crash, no sanitizer report, no
// exception":
//   - a rejected configuration is kInvalidArgument, and every line of the
//     message says where: "<file>:<line>:" with a line inside the file, or
//     "override '<key>=...'"; none is empty;
//   - an accepted Config satisfies the schema's ranges and every
//     cross-reference (models name providers, roles name models);
//   - a key printed in a message (JoinPath) splits back to the same path.
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/config/loader.h"
#include "tandem/config/schema.h"

namespace {

namespace fs = std::filesystem;
using tandem::config::Config;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("config_fuzz", what, detail);
}

const std::string& ConfigPath() {
  static const std::string path =
      (tandem::fuzz::MakeTempDir("tandem-config-fuzz") / "config.toml").string();
  return path;
}

bool IsUrl(const std::string& s) { return s.starts_with("http://") || s.starts_with("https://"); }

void CheckConfig(const Config& c) {
  for (const auto& [name, p] : c.providers) {
    if (p.settings.name != name) Fail("provider name not set", name);
    if (!IsUrl(p.settings.base_url)) Fail("provider without an http(s) base_url", name);
    for (char ch : p.api_key_env) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
        Fail("api_key_env is not a variable name", p.api_key_env);
      }
    }
  }
  for (const auto& [name, m] : c.models) {
    if (!c.providers.count(m.provider)) Fail("model names an unknown provider", name);
    if (m.id.empty()) Fail("model without id", name);
    if (m.context_window < 1 || m.max_output_tokens < 1) Fail("model size out of range", name);
    for (double price : {m.price_input, m.price_output, m.price_cached_input}) {
      if (!std::isfinite(price) || price < 0) Fail("price out of range", name);
    }
  }
  for (auto role : tandem::config::kAllRoles) {
    const std::string& model = c.roles.Get(role);
    if (!model.empty() && !c.models.count(model)) Fail("role names an unknown model", model);
  }
  const auto& l = c.limits;
  if (l.max_steps < 1 || l.max_tokens < 1 || !(l.max_cost_usd > 0) || l.max_wall_s < 1 ||
      l.step_retries < 0 || l.step_retries > 100 || l.context_tokens < 1000) {
    Fail("limit out of range", "");
  }
  const auto& g = c.guardrails;
  if (g.max_lines_per_step < 1 || g.max_files_per_step < 1 || g.max_lines_per_task < 1 ||
      g.max_files_per_task < 1) {
    Fail("guardrail out of range", "");
  }
}

// "<path>:<digits>:" with the line inside the file (1 past the end allowed:
// a parse error at the end of the text).
bool NamesFileLine(std::string_view line, const std::string& path, long long file_lines) {
  if (!line.starts_with(path + ":")) return false;
  size_t pos = path.size() + 1, digits = pos;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  if (digits == pos || digits - pos > 9 || digits >= line.size() || line[digits] != ':') return false;
  long long n = std::stoll(std::string(line.substr(pos, digits - pos)));
  return n >= 1 && n <= file_lines + 1;
}

void CheckError(const tandem::Status& error, const std::string& path, long long file_lines) {
  if (error.code() != tandem::StatusCode::kInvalidArgument) {
    Fail("unexpected error code", error.ToString());
  }
  const std::string& m = error.message();
  if (m.empty()) Fail("empty error message", "");
  size_t pos = 0;
  while (pos <= m.size()) {
    size_t end = m.find('\n', pos);
    if (end == std::string::npos) end = m.size();
    std::string_view line = std::string_view(m).substr(pos, end - pos);
    bool more = line.starts_with("(") && line.ends_with(" more)") && end == m.size();
    if (!more && !NamesFileLine(line, path, file_lines) && !line.starts_with("override '")) {
      Fail("error line names no file line or override", m);
    }
    if (!more && line.find(": ") == std::string_view::npos) Fail("error line has no message", m);
    if (end == m.size()) break;
    pos = end + 1;
  }
}

void CheckPathRoundTrip(const std::string& key) {
  std::vector<std::string> path = tandem::config::schema::SplitPath(key);
  for (const std::string& segment : path) {
    for (char ch : segment) {
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return;  // not representable
    }
  }
  if (tandem::config::schema::SplitPath(tandem::config::schema::JoinPath(path)) != path) {
    Fail("JoinPath does not split back", key + " -> " + tandem::config::schema::JoinPath(path));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t sep = input.find("\n%%\n");
  std::string_view file = input.substr(0, sep);

  tandem::config::ConfigInputs inputs;
  inputs.env["TANDEM_CONFIG"] = ConfigPath();
  if (sep != std::string_view::npos) {
    std::string_view rest = input.substr(sep + 4);
    while (!rest.empty() && inputs.overrides.size() < 4) {
      size_t nl = rest.find('\n');
      inputs.overrides.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out) Fail("cannot write the config file", ConfigPath());
  }
  long long file_lines = 1;
  for (char c : file) file_lines += c == '\n';

  auto loaded = tandem::config::LoadConfig(inputs);
  if (loaded) {
    CheckConfig(loaded->config);
  } else {
    CheckError(loaded.error(), ConfigPath(), file_lines);
  }
  for (const std::string& o : inputs.overrides) CheckPathRoundTrip(o.substr(0, o.find('=')));
  return 0;
}
