// OpenAI Chat Completions wire format (POST {base_url}/chat/completions),
// streaming, for OpenAI and the OpenAI-compatible servers (PROTOCOLS.md §1).
//
// Requests: system prompt as a "system" message, tools as function tools,
// stream_options.include_usage, max_completion_tokens (or max_tokens when
// ProviderSettings::send_max_tokens), `Authorization: Bearer` when a key is set.
//
// Decoding follows the defensive rules of PROTOCOLS.md §1.7: tool-call
// fragments are slotted by index, a different non-empty id at a used index
// opens a new slot, whole or object-valued arguments are accepted, the tool
// turn is decided by the calls received (not finish_reason), EOF without
// [DONE] after a finish_reason is accepted but flagged (saw_done = false),
// usage is taken from anywhere (last wins, x_groq.usage too), and an `error`
// payload mid-stream fails the attempt. Tool calls are delivered once the
// choice finishes, each with arguments validated as a JSON object.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "tandem/providers/model_client.h"
#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

class OpenAICodec : public WireCodec {
 public:
  explicit OpenAICodec(ProviderSettings settings);

  WireRequest Encode(const protocol::ModelRequest& request) const override;
  std::unique_ptr<StreamDecoder> NewDecoder() const override;

  // The JSON body alone (for tests).
  nlohmann::json EncodeBody(const protocol::ModelRequest& request) const;

 private:
  ProviderSettings settings_;
};

}  // namespace tandem::providers
