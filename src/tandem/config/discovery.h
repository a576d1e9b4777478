// Zero-config discovery: fills in what the configuration leaves open from
// what the machine offers.
//
// - API keys in the environment (CEREBRAS_API_KEY, GROQ_API_KEY,
//   OPENAI_API_KEY, ANTHROPIC_API_KEY, or whatever api_key_env a provider
//   names) make that provider's built-in models usable.
// - OpenAI-compatible servers on their default loopback ports (llama.cpp
//   :8080, Ollama :11434, vLLM :8000) are found through an injected probe,
//   so this layer never touches the network. Each server found becomes a
//   provider named after it, with one model per id it serves, named
//   "<server>/<id>" (e.g. "ollama/qwen3-coder:30b").
// - Roles left unset by every layer are chosen: executor = a fast provider
//   (Cerebras, then Groq), else a local server, else Anthropic, else OpenAI;
//   planner = Anthropic, else OpenAI, else the executor's model;
//   reviewer = the planner's model.
// Roles set by any configuration layer are never changed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/config/loader.h"

namespace tandem::config {

// Returns the model ids served at `base_url` (an OpenAI-compatible
// ".../v1"), or an error when nothing answers there. Called from the
// caller's thread; should give up quickly (a loopback connect is refused at
// once when no server listens).
using ProbeFn = std::function<Result<std::vector<std::string>>(const std::string& base_url)>;

struct ProbeResult {
  std::string name;      // "llamacpp", "ollama", "vllm"
  std::string label;     // "llama.cpp server"
  std::string base_url;  // "http://127.0.0.1:8080/v1"
  bool found = false;
  std::vector<std::string> model_ids;
  std::string error;  // why nothing was found, when !found
};

struct DiscoveryReport {
  std::vector<std::string> keys_present;  // env var names whose provider key is set (never values)
  bool probed = false;                    // false: local servers were not looked for
  std::vector<ProbeResult> probes;
};

struct DiscoveryOptions {
  // Probe local servers even when every role can be served without them
  // (`tandem doctor` wants the full picture). Otherwise they are probed only
  // when some role is still unset after looking at API keys.
  bool always_probe = false;
};

// Completes `loaded` in place (providers, models, roles and their origins).
// `probe` may be empty: then no server is looked for.
DiscoveryReport Discover(LoadedConfig& loaded, const Env& env, const ProbeFn& probe,
                         DiscoveryOptions options = {});

}  // namespace tandem::config
