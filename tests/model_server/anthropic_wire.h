// Anthropic Messages (POST /v1/messages): validation with the real API's 400
// messages, and message / SSE event encoding.
// See /work/shared/PROTOCOLS.md section 3.
#pragma once

#include "tests/model_server/wire_format.h"

namespace tandem::model_server {

class AnthropicWire : public WireFormat {
 public:
  std::optional<WireError> CheckAuth(const Headers& headers,
                                     const std::string& api_key) const override;
  std::optional<WireError> Validate(const Headers& headers,
                                    const nlohmann::json& body) const override;
  Conversation Summarize(const nlohmann::json& body) const override;
  std::string CanonicalPrompt(const nlohmann::json& body) const override;
  bool WantsStream(const nlohmann::json& body) const override;
  bool CanInterleaveToolCalls() const override { return false; }
  WireError Error(int status, std::string_view message) const override;
  std::string ResponseIdPrefix() const override { return "msg_"; }
  std::string ToolCallIdPrefix() const override { return "toolu_"; }
  ResponseMeta Meta(const nlohmann::json& body, std::string id) const override;
  std::unique_ptr<StreamEncoder> NewEncoder(const ResponseMeta& meta) const override;
  nlohmann::json Response(const ResponseMeta& meta, const Reply& reply,
                          const Usage& usage) const override;
};

// {"type":"error","error":{"type","message"},"request_id"} with the given status.
WireError AnthropicError(int status, std::string_view type, std::string_view message);

nlohmann::json AnthropicUsage(const Usage& usage);

}  // namespace tandem::model_server
