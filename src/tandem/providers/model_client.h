// ModelClient: the one interface through which tandem talks to a model.
//
// Implementations speak a wire format (OpenAI Chat Completions, Anthropic
// Messages) over a shared HTTP transport whose single I/O thread drives many
// concurrent streams; callers never get a thread per stream.
//
// Thread-safety: a ModelClient may be used from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tandem/base/status.h"
#include "tandem/protocol/model.h"
#include "tandem/providers/rate_limiter.h"

namespace tandem::net {
class HttpTransport;
}

namespace tandem::providers {

enum class WireFormat { kOpenAI, kAnthropic };

// Everything a client needs to reach one provider. Built by the config layer.
struct ProviderSettings {
  std::string name;  // "cerebras", "anthropic", ... (for messages)
  WireFormat wire = WireFormat::kOpenAI;
  std::string base_url;  // e.g. "https://api.cerebras.ai/v1" or "http://127.0.0.1:8080/v1"
  std::string api_key;   // the resolved secret; may be empty for local servers. Never logged.
  std::map<std::string, std::string> headers;  // extra headers
  int connect_timeout_ms = 5000;
  int idle_timeout_ms = 60000;      // no byte received for this long -> kTimeout
  int request_timeout_ms = 600000;  // whole request
  // Shared by every client of this provider in the process (RateLimiter).
  RateLimits limits = {.max_concurrent_requests = 16};
  int max_retries = 2;              // retries after errors; rate limits (429) are not counted
  int max_retry_after_ms = 60000;   // server-directed delays above this are not honored
  int64_t max_rate_limit_wait_ms = 600000;  // 429 delays one request may wait out, summed
  bool send_max_tokens = false;     // OpenAI wire: send max_tokens, not max_completion_tokens
};

// Per-model request options.
struct ModelOptions {
  bool fast_mode = false;  // Anthropic: send speed:"fast" with its beta header
};

// Receives events while a reply streams. Called on the transport's I/O
// thread: implementations must be quick and must not call back into the client.
class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  virtual void OnEvent(const protocol::StreamEvent& event) = 0;
  // The request is about to be retried after `error`; any events delivered
  // for the failed attempt are void (the reply restarts from scratch).
  virtual void OnRetry(const protocol::ModelError& error, int attempt, int delay_ms) {}
};

// A request in flight.
class PendingReply {
 public:
  virtual ~PendingReply() = default;
  // Blocks until the reply is complete or has failed for good. An attempt
  // that the provider's rate limit holds back (RateLimiter) starts from
  // here, so callers Wait() on every reply they Start().
  virtual Result<protocol::ModelResponse, protocol::ModelError> Wait() = 0;
  // Asks the request to stop; Wait() then returns kCancelled. Any thread.
  virtual void Cancel() = 0;
};

class ModelClient {
 public:
  virtual ~ModelClient() = default;

  // Starts `request`. `observer` (may be null) must outlive the reply.
  virtual std::unique_ptr<PendingReply> Start(const protocol::ModelRequest& request,
                                              StreamObserver* observer) = 0;

  // Start(...)->Wait().
  Result<protocol::ModelResponse, protocol::ModelError> Complete(
      const protocol::ModelRequest& request, StreamObserver* observer = nullptr) {
    return Start(request, observer)->Wait();
  }
};

// Builds the client for `settings.wire`, talking through `transport` (shared
// by all clients so that one I/O thread serves every stream) within
// `limiter`, the provider's one RateLimiter for the whole process
// (RateLimiters::For; null: a limiter of settings.limits for this client
// alone). Registers the API key with the Redactor.
std::unique_ptr<ModelClient> MakeModelClient(const ProviderSettings& settings, const ModelOptions& options,
                                             std::shared_ptr<net::HttpTransport> transport,
                                             std::shared_ptr<RateLimiter> limiter = nullptr);

}  // namespace tandem::providers
