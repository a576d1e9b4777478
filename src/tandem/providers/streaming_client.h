// StreamingClient: a ModelClient for one provider, generic over the wire
// format (a WireCodec). It posts the encoded request on the shared
// HttpTransport, feeds the body through an SseParser into the codec's
// decoder, and applies the RetryPolicy. All of that runs on the transport's
// I/O thread; retries after errors wait in the transport (start delay), not
// in a thread.
//
// Every attempt holds a permit of the provider's RateLimiter (shared by all
// clients of the provider in the process) from its start to its end; its
// estimate is the request body's bytes / 4 tokens, settled with the reply's
// usage. An attempt the limiter admits at once starts at Start() (or, for a
// retry, on the I/O thread); one it holds back starts from Wait(), which
// blocks in RateLimiter::Acquire until admitted or cancelled. A rate limit
// (429) pauses the limiter for its delay, so every agent's requests to the
// provider wait it out, and the request is retried (RetryPolicy: not counted
// against max_retries, bounded by max_rate_limit_wait_ms).
//
// A retried attempt starts from scratch with a fresh decoder: the observer
// gets OnRetry and must drop what it received for the failed attempt; the
// final result never mixes attempts.
//
// The system prompt and the user turns are passed through the Redactor
// (base/redact.h) before they are encoded: no secret tandem knows reaches a
// provider, whatever text a caller put in the prompt.
//
// Thread-safety: Start may be called from any thread. PendingReply::Wait and
// Cancel from any thread but the I/O thread. Destroying a PendingReply before
// it finished cancels it and waits for the cancellation.
#pragma once

#include <memory>

#include "tandem/net/http_transport.h"
#include "tandem/providers/model_client.h"
#include "tandem/providers/rate_limiter.h"
#include "tandem/providers/retry_policy.h"
#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

class StreamingClient : public ModelClient {
 public:
  // Registers settings.api_key with the Redactor.
  // REQUIRES: limiter != nullptr.
  StreamingClient(ProviderSettings settings, std::shared_ptr<const WireCodec> codec,
                  std::shared_ptr<net::HttpTransport> transport,
                  std::shared_ptr<RateLimiter> limiter, RetryPolicy policy);

  std::unique_ptr<PendingReply> Start(const protocol::ModelRequest& request, StreamObserver* observer) override;

 private:
  ProviderSettings settings_;
  std::shared_ptr<const WireCodec> codec_;
  std::shared_ptr<net::HttpTransport> transport_;
  std::shared_ptr<RateLimiter> limiter_;
  RetryPolicy policy_;
};

}  // namespace tandem::providers
