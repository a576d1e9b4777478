// The built-in catalog: the cloud providers tandem knows without any
// configuration, their models, and the local OpenAI-compatible servers that
// discovery probes. This is the one table to edit when a provider renames a
// model or changes a price (prices: USD per million tokens, as published by
// each provider in November 2026; check them before relying on cost limits).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tandem/providers/model_client.h"

namespace tandem::config {

struct BuiltinProvider {
  std::string_view name;
  providers::WireFormat wire;
  std::string_view base_url;
  std::string_view api_key_env;
};

struct BuiltinModel {
  std::string_view name;  // the key under [models]
  std::string_view provider;
  std::string_view id;
  int64_t context_window;
  double price_input;
  double price_output;
  double price_cached_input;
  int64_t max_output_tokens;
  bool fast_mode;
};

// An OpenAI-compatible server on its default loopback port.
struct LocalServer {
  std::string_view name;      // provider name given to it: "llamacpp", "ollama", "vllm"
  std::string_view label;     // for people: "llama.cpp server"
  std::string_view base_url;  // "http://127.0.0.1:8080/v1"
};

std::span<const BuiltinProvider> BuiltinProviders();
std::span<const BuiltinModel> BuiltinModels();
std::span<const LocalServer> LocalServers();

}  // namespace tandem::config
