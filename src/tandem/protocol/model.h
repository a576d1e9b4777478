// Plain data exchanged with model providers, independent of wire format.
// The providers layer translates these to and from OpenAI Chat Completions
// and Anthropic Messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::protocol {

// One complete tool call made by the model. `arguments` is the parsed JSON
// object; `arguments_json` is the exact text the model produced (kept for
// replaying the conversation byte-for-byte to the provider).
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments_json;
  nlohmann::json arguments = nlohmann::json::object();
  // Non-empty when the streamed arguments did not parse as a JSON object
  // (a fast model's truncated JSON): why. `arguments` is then {}, the call
  // is not run, and the model gets this as a tool error to correct.
  std::string malformed;
};

enum class Role { kUser, kAssistant, kTool };

// One conversation turn.
// - kUser: `text`.
// - kAssistant: `text` (may be empty) and `tool_calls`.
// - kTool: the result of one tool call: `tool_call_id`, `text`, `is_error`.
struct Message {
  Role role = Role::kUser;
  std::string text;
  std::vector<ToolCall> tool_calls;
  std::string tool_call_id;
  bool is_error = false;

  static Message User(std::string text) { return Message{Role::kUser, std::move(text), {}, {}, false}; }
  static Message ToolResult(std::string id, std::string text, bool is_error) {
    return Message{Role::kTool, std::move(text), {}, std::move(id), is_error};
  }
};

// A function tool offered to the model. `parameters` is a JSON Schema object.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();
};

struct ModelRequest {
  std::string model;  // the provider's model id
  std::string system;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  int max_tokens = 4096;
  std::optional<double> temperature;
  std::vector<std::string> stop;
};

struct Usage {
  int64_t input_tokens = 0;  // all prompt tokens, cached ones included
  int64_t output_tokens = 0;
  int64_t cached_input_tokens = 0;  // prompt tokens served from the provider's cache
  int64_t cache_write_tokens = 0;   // prompt tokens written to the cache (Anthropic)

  Usage& operator+=(const Usage& other) {
    input_tokens += other.input_tokens;
    output_tokens += other.output_tokens;
    cached_input_tokens += other.cached_input_tokens;
    cache_write_tokens += other.cache_write_tokens;
    return *this;
  }
};

enum class StopReason {
  kEndTurn,    // natural end, or a stop sequence
  kToolUse,    // the model called tools
  kMaxTokens,  // hit max_tokens or the context
  kRefusal,    // content filter / refusal
  kOther,
};

const char* StopReasonName(StopReason r);

struct Timings {
  double time_to_first_token_ms = 0;  // request sent -> first content byte
  double total_ms = 0;                // request sent -> stream end
  double output_tokens_per_s = 0;     // base/token_rate.h; 0: too short to be a rate
};

// Streaming events, delivered in arrival order.
struct TextDelta {
  std::string text;
};
struct ToolCallReady {  // a tool call whose arguments are complete and valid JSON
  ToolCall call;
};
struct UsageReport {
  Usage usage;
};
using StreamEvent = std::variant<TextDelta, ToolCallReady, UsageReport>;

// Which model answered a request that a pool routed (providers/routing.h):
// the member the router chose, with what it costs. Plain data, so that every
// caller prices and records the reply at the model that served it.
struct ServedBy {
  std::string model_name;  // the member's key under [models]
  std::string provider;    // its provider's name
  std::string model_id;    // the id sent on the wire
  double price_input = 0;  // USD per million uncached input tokens
  double price_output = 0;
  double price_cached_input = 0;
  bool fast_mode = false;
  double predicted_ms = 0;  // the router's predicted time for this request
};

// The assembled reply of one request.
struct ModelResponse {
  std::string model;
  std::string text;
  std::vector<ToolCall> tool_calls;
  Usage usage;
  StopReason stop_reason = StopReason::kEndTurn;
  Timings timings;
  int retries = 0;          // how many times the request was retried
  bool saw_done = true;     // false when the stream ended without its terminator
  std::optional<ServedBy> served_by;  // set by a pool's client; empty: the client's one model
};

// Why a model request failed. Kept apart from StatusCode because retry
// policy and the user's remedy depend on the exact kind.
enum class ModelErrorKind {
  kAuth,             // 401/403: wrong or missing key
  kRateLimited,      // 429
  kOverloaded,       // 529, or an overloaded_error event
  kServer,           // 5xx
  kNetwork,          // connect failure, reset before the body began
  kBadRequest,       // 400/404/422: the request itself is wrong
  kContextTooLong,   // prompt exceeds the model's context
  kStreamBroken,     // the stream began, then broke or carried an error event
  kTimeout,          // connect or idle timeout
  kCancelled,        // cancelled by the caller
  kMalformed,        // the provider sent something unparseable (e.g. bad tool JSON)
};

const char* ModelErrorKindName(ModelErrorKind k);

struct ModelError {
  ModelErrorKind kind = ModelErrorKind::kServer;
  int http_status = 0;
  std::string message;  // already redacted
  int retries = 0;
};

}  // namespace tandem::protocol
