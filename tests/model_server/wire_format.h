// What differs between the OpenAI and Anthropic endpoints: request
// validation, conversation extraction, error bodies and response encoding.
// The server core (server.cc) is written once against this interface.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/model_server/reply.h"
#include "tests/model_server/script.h"

namespace tandem::model_server {

// Request headers with lowercased names.
using Headers = std::map<std::string, std::string>;

// An error answered instead of a normal response.
struct WireError {
  int status = 400;
  nlohmann::json body;
};

// Identity of one response (ids, model echo, options that shape the stream).
struct ResponseMeta {
  std::string id;     // "chatcmpl-..." / "msg_..."
  std::string model;  // echoed from the request
  long long created = 0;
  bool include_usage = false;  // OpenAI stream_options.include_usage
};

// Encodes one streamed response as SSE text. Calls come in this order:
// Start, Step*, then Finish or ErrorEvent (or nothing, when the stream is cut).
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual std::string Start(const Usage& usage) = 0;
  virtual std::string Step(const StreamStep& step, const Reply& reply) = 0;
  virtual std::string Finish(const Reply& reply, const Usage& usage) = 0;
  virtual std::string ErrorEvent() = 0;
  // A keep-alive event sent now and then ("" when the format has none).
  virtual std::string KeepAlive() = 0;
};

class WireFormat {
 public:
  virtual ~WireFormat() = default;

  // 401 when `api_key` is set and the request does not carry it.
  virtual std::optional<WireError> CheckAuth(const Headers& headers,
                                             const std::string& api_key) const = 0;
  // A 400 like the real API's for a malformed request. REQUIRES: body is an object.
  virtual std::optional<WireError> Validate(const Headers& headers,
                                            const nlohmann::json& body) const = 0;
  // REQUIRES: Validate passed.
  virtual Conversation Summarize(const nlohmann::json& body) const = 0;
  // A deterministic serialization of the prompt in cache order, for the
  // simulated prefix cache and the input token count.
  virtual std::string CanonicalPrompt(const nlohmann::json& body) const = 0;
  virtual bool WantsStream(const nlohmann::json& body) const = 0;
  // Whether fragments of parallel tool calls may interleave on this wire.
  virtual bool CanInterleaveToolCalls() const = 0;

  // An error in this format; the error type follows from the status.
  virtual WireError Error(int status, std::string_view message) const = 0;

  virtual std::string ResponseIdPrefix() const = 0;  // "chatcmpl-" / "msg_"
  virtual std::string ToolCallIdPrefix() const = 0;  // "call_" / "toolu_"
  virtual ResponseMeta Meta(const nlohmann::json& body, std::string id) const = 0;
  virtual std::unique_ptr<StreamEncoder> NewEncoder(const ResponseMeta& meta) const = 0;
  virtual nlohmann::json Response(const ResponseMeta& meta, const Reply& reply,
                                  const Usage& usage) const = 0;
};

// "data: <json>\n\n", optionally preceded by "event: <name>\n".
std::string SseEvent(const nlohmann::json& data, std::string_view event = {});

// The text of a string or of an array of {"type":"text","text":...} parts
// (other parts are skipped), joined with "\n".
std::string ContentText(const nlohmann::json& content);

}  // namespace tandem::model_server
