// Anthropic Messages wire format (POST {base_url}/messages), streaming
// (PROTOCOLS.md §3).
//
// Requests: `x-api-key` and `anthropic-version: 2023-06-01` headers; the
// system prompt as one text block; tool calls as tool_use blocks; consecutive
// Role::kTool messages (and any user text right after them) merge into ONE
// user message whose tool_result blocks come first. Prompt-cache breakpoints
// (cache_control ephemeral, 3 of the 4 allowed) go on the stable prefix, the
// last tool and the system block, plus the last block of the final message
// so that the conversation so far is read from cache on the next turn.
// ModelOptions::fast_mode adds `speed: "fast"` and its beta header.
//
// Decoding: text_delta and input_json_delta are assembled per content block;
// a tool_use block is validated and delivered at its content_block_stop; ping
// and unknown events are ignored; `event: error` fails the attempt. Usage:
// input_tokens = input + cache_read + cache_write, cached = cache_read.
// A stream ending without message_stop is accepted (saw_done = false) only
// when message_delta already carried the stop_reason.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "tandem/providers/model_client.h"
#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

inline constexpr char kAnthropicVersion[] = "2023-06-01";
inline constexpr char kFastModeBeta[] = "fast-mode-2026-02-01";

class AnthropicCodec : public WireCodec {
 public:
  AnthropicCodec(ProviderSettings settings, ModelOptions options);

  WireRequest Encode(const protocol::ModelRequest& request) const override;
  std::unique_ptr<StreamDecoder> NewDecoder() const override;

  // The JSON body alone (for tests).
  nlohmann::json EncodeBody(const protocol::ModelRequest& request) const;

 private:
  ProviderSettings settings_;
  ModelOptions options_;
};

}  // namespace tandem::providers
