#include "tandem/config/builtins.h"

namespace tandem::config {
namespace {

using providers::WireFormat;

constexpr BuiltinProvider kProviders[] = {
    {"cerebras", WireFormat::kOpenAI, "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"},
    {"groq", WireFormat::kOpenAI, "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
    {"openai", WireFormat::kOpenAI, "https://api.openai.com/v1", "OPENAI_API_KEY"},
    {"anthropic", WireFormat::kAnthropic, "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"},
};

// name, provider, id, context, $in, $out, $cached-in, max output, fast_mode.
// Names carry no version so that configs naming them survive model updates.
constexpr BuiltinModel kModels[] = {
    {"cerebras-gpt-oss", "cerebras", "gpt-oss-120b", 131072, 0.35, 0.75, 0.35, 32768, false},
    {"groq-gpt-oss", "groq", "openai/gpt-oss-120b", 131072, 0.15, 0.60, 0.075, 65536, false},
    {"groq-llama", "groq", "llama-3.3-70b-versatile", 131072, 0.59, 0.79, 0.59, 32768, false},
    {"openai-gpt", "openai", "gpt-5.5", 1050000, 5.00, 30.00, 0.50, 128000, false},
    {"claude-opus", "anthropic", "claude-opus-5-5", 1000000, 4.00, 20.00, 0.20, 128000, false},
    // Same model with speed:"fast": ~2.5x output speed at 2x the price.
    {"claude-opus-fast", "anthropic", "claude-opus-5-5", 1000000, 8.00, 40.00, 0.40, 128000, true},
    {"claude-sonnet", "anthropic", "claude-sonnet-5-5", 1000000, 2.00, 10.00, 0.20, 128000, false},
};

constexpr LocalServer kLocalServers[] = {
    {"llamacpp", "llama.cpp server", "http://127.0.0.1:8080/v1"},
    {"ollama", "Ollama", "http://127.0.0.1:11434/v1"},
    {"vllm", "vLLM", "http://127.0.0.1:8000/v1"},
};

}  // namespace

std::span<const BuiltinProvider> BuiltinProviders() { return kProviders; }
std::span<const BuiltinModel> BuiltinModels() { return kModels; }
std::span<const LocalServer> LocalServers() { return kLocalServers; }

}  // namespace tandem::config
