// StreamingClient: a ModelClient for one provider, generic over the wire
// format (a WireCodec). It posts the encoded request on the shared
// HttpTransport, feeds the body through an SseParser into the codec's
// decoder, and applies the RetryPolicy. All of that runs on the transport's
// I/O thread; retries wait in the transport (start delay), not in a thread.
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
#include "tandem/providers/retry_policy.h"
#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

class StreamingClient : public ModelClient {
 public:
  // Registers settings.api_key with the Redactor.
  StreamingClient(ProviderSettings settings, std::shared_ptr<const WireCodec> codec,
                  std::shared_ptr<net::HttpTransport> transport, RetryPolicy policy);

  std::unique_ptr<PendingReply> Start(const protocol::ModelRequest& request, StreamObserver* observer) override;

 private:
  ProviderSettings settings_;
  std::shared_ptr<const WireCodec> codec_;
  std::shared_ptr<net::HttpTransport> transport_;
  RetryPolicy policy_;
};

}  // namespace tandem::providers
