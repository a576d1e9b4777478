#include "tandem/providers/model_client.h"

#include "tandem/providers/anthropic_client.h"
#include "tandem/providers/openai_client.h"
#include "tandem/providers/streaming_client.h"

namespace tandem::providers {

std::unique_ptr<ModelClient> MakeModelClient(const ProviderSettings& settings, const ModelOptions& options,
                                             std::shared_ptr<net::HttpTransport> transport,
                                             std::shared_ptr<RateLimiter> limiter) {
  if (limiter == nullptr) limiter = std::make_shared<RateLimiter>(settings.limits);
  std::shared_ptr<const WireCodec> codec;
  switch (settings.wire) {
    case WireFormat::kOpenAI:
      codec = std::make_shared<OpenAICodec>(settings);
      break;
    case WireFormat::kAnthropic:
      codec = std::make_shared<AnthropicCodec>(settings, options);
      break;
  }
  return std::make_unique<StreamingClient>(
      settings, std::move(codec), std::move(transport), std::move(limiter),
      RetryPolicy(settings.max_retries, settings.max_retry_after_ms, settings.max_rate_limit_wait_ms));
}

}  // namespace tandem::providers
