// Cuts model output into word-like tokens for streaming.
//
// A token is a word with its single leading space, a run of punctuation, or a
// run of whitespace; long runs are cut so a token stays near 4 bytes on average
// (at most 8). UTF-8 sequences are never split. Concatenating the tokens gives
// back the input exactly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem::model_server {

std::vector<std::string> SplitTokens(std::string_view text);

// The simulated token count of a prompt: bytes / 4, rounded up.
int EstimateTokens(size_t bytes);

}  // namespace tandem::model_server
