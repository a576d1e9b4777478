// History compaction for long executor conversations. A fast model fills
// its context in seconds, and every token of prefill costs; compaction keeps
// a conversation under a token budget while leaving the stable prefix
// (system prompt, tools, the first user message) byte-identical, so the
// provider's prefix cache still serves it.
//
// Order of sacrifice: first the contents of old tool results are elided
// (they are bulky and already acted on), oldest first; if that is not
// enough, the oldest turns after the first message are folded into one
// mechanical summary message. The last `keep_recent` messages are never
// touched, and a tool call is never separated from its result.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/protocol/model.h"

namespace tandem::agent {

struct CompactionStats {
  int64_t tokens_before = 0;
  int64_t tokens_after = 0;
  int elided_results = 0;
  int folded_messages = 0;
};

// Compacts `messages` in place so their estimated size fits `budget_tokens`
// (when possible). messages[0] (the task message) is never changed.
CompactionStats CompactHistory(std::vector<protocol::Message>& messages, int64_t budget_tokens,
                               size_t keep_recent = 6);

}  // namespace tandem::agent
