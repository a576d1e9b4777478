// The streaming speed of a model reply: tandem's one definition of "output
// tokens per second" (docs/METRICS.md), shared by the provider clients, the
// ledger and `tandem stats`.
//
// The speed of a reply is the tokens after its first divided by the time
// from its first token to its last: n tokens arriving 1/r apart span
// (n - 1) / r. The first byte of the reply's body stands for the first token
// (time to first token) and the end of the stream for the last. A reply too
// short to measure has no speed: a burst of a few tokens over microseconds is
// not a rate, and counting it would put figures like 100,000 tok/s next to a
// server streaming 2,000. Such a reply is left out of every speed figure.
#pragma once

#include <cstdint>
#include <optional>

namespace tandem {

// A reply counts when it streamed at least this many tokens after its first...
inline constexpr int64_t kMinRateTokens = 16;
// ...over at least this long from its first token to its last.
inline constexpr double kMinRateSpanMs = 20;

// The measurable part of one reply: tokens after the first, and the time
// they took.
struct StreamSpan {
  int64_t tokens = 0;
  double ms = 0;
};

// The span of a reply of `tokens_out` output tokens whose first token came
// `ttft_ms` and whose stream ended `total_ms` after the request; nullopt when
// it is too short to be a rate (see above).
inline std::optional<StreamSpan> MeasurableSpan(int64_t tokens_out, double ttft_ms,
                                                double total_ms) {
  StreamSpan span{tokens_out - 1, total_ms - ttft_ms};
  if (span.tokens < kMinRateTokens || span.ms < kMinRateSpanMs) return std::nullopt;
  return span;
}

// Tokens per second over a span (or a sum of spans). REQUIRES: span.ms > 0.
inline double TokensPerSecond(StreamSpan span) {
  return static_cast<double>(span.tokens) * 1000.0 / span.ms;
}

// The speed of one reply, or 0 when it has none (the convention of the
// `tokens_per_s` fields of events and ledger rows).
inline double ReplyTokensPerSecond(int64_t tokens_out, double ttft_ms, double total_ms) {
  auto span = MeasurableSpan(tokens_out, ttft_ms, total_ms);
  return span ? TokensPerSecond(*span) : 0;
}

}  // namespace tandem
