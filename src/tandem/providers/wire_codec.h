// WireCodec: what differs between wire formats (OpenAI Chat Completions,
// Anthropic Messages): how a request is encoded and how its SSE stream is
// decoded. StreamingClient supplies everything else (transport, retries,
// timings, cancellation).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/net/sse_parser.h"
#include "tandem/protocol/model.h"

namespace tandem::providers {

using EmitFn = std::function<void(const protocol::StreamEvent&)>;

// Decodes one attempt's event stream. Not thread-safe; one per attempt.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;

  // Handles one SSE event, emitting text deltas, finished tool calls and
  // usage as they become known. A returned error ends the attempt
  // (a mid-stream error event, unparseable data, malformed tool JSON).
  virtual std::optional<protocol::ModelError> OnEvent(const net::SseEvent& event, const EmitFn& emit) = 0;

  // The body ended cleanly. Returns the assembled reply, or kStreamBroken when
  // the stream stopped before the reply was complete.
  virtual Result<protocol::ModelResponse, protocol::ModelError> Finish(const EmitFn& emit) = 0;
};

struct WireRequest {
  std::string path;                  // appended to the provider's base_url, e.g. "/messages"
  std::vector<std::string> headers;  // "Name: value", secrets included
  std::string body;
};

class WireCodec {
 public:
  virtual ~WireCodec() = default;
  virtual WireRequest Encode(const protocol::ModelRequest& request) const = 0;
  virtual std::unique_ptr<StreamDecoder> NewDecoder() const = 0;
};

}  // namespace tandem::providers
