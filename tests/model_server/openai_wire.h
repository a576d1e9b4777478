// OpenAI Chat Completions (POST /v1/chat/completions): validation with the
// real API's 400 messages, and chat.completion(.chunk) encoding.
// See /work/shared/PROTOCOLS.md section 1.
#pragma once

#include "tests/model_server/wire_format.h"

namespace tandem::model_server {

class OpenAiWire : public WireFormat {
 public:
  std::optional<WireError> CheckAuth(const Headers& headers,
                                     const std::string& api_key) const override;
  std::optional<WireError> Validate(const Headers& headers,
                                    const nlohmann::json& body) const override;
  Conversation Summarize(const nlohmann::json& body) const override;
  std::string CanonicalPrompt(const nlohmann::json& body) const override;
  bool WantsStream(const nlohmann::json& body) const override;
  bool CanInterleaveToolCalls() const override { return true; }
  WireError Error(int status, std::string_view message) const override;
  std::string ResponseIdPrefix() const override { return "chatcmpl-"; }
  std::string ToolCallIdPrefix() const override { return "call_"; }
  ResponseMeta Meta(const nlohmann::json& body, std::string id) const override;
  std::unique_ptr<StreamEncoder> NewEncoder(const ResponseMeta& meta) const override;
  nlohmann::json Response(const ResponseMeta& meta, const Reply& reply,
                          const Usage& usage) const override;
};

// {"error":{"message","type","param","code"}} with the given status.
WireError OpenAiError(int status, std::string_view message, std::string_view type,
                      const nlohmann::json& param = nullptr, const nlohmann::json& code = nullptr);

nlohmann::json OpenAiUsage(const Usage& usage);

}  // namespace tandem::model_server
