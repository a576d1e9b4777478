// Classification of provider failures into protocol::ModelErrorKind.
//
// Both wire formats' error bodies are understood: OpenAI
// {"error":{"message","type","code"}} and Anthropic
// {"type":"error","error":{"type","message"}}. Messages are redacted.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/net/http_transport.h"
#include "tandem/protocol/model.h"

namespace tandem::providers {

// An HTTP error response: 401/403 auth, 429 rate limited, 529 (or an
// overloaded_error body) overloaded, 408 timeout, other >= 500 server,
// 400 whose message speaks of the context length context-too-long, other
// 4xx bad request. `body` is the response body (may be empty or not JSON).
protocol::ModelError ErrorFromHttpStatus(std::string_view provider, int status, std::string_view body);

// An error object that arrived inside a 200 stream (OpenAI `{"error":{...}}`
// chunk, Anthropic `event: error`). `error` is the inner object. Overloaded
// and rate-limit types keep their kind; anything else is kStreamBroken.
protocol::ModelError ErrorFromStreamPayload(std::string_view provider, const nlohmann::json& error);

// A transfer that failed below HTTP. `body_began` says whether bytes of a
// successful response had arrived (then a reset is kStreamBroken).
protocol::ModelError ErrorFromTransfer(std::string_view provider, const net::HttpResult& result,
                                       bool body_began);

// True when an error message says the prompt does not fit the context.
bool MentionsContextLength(std::string_view message);

}  // namespace tandem::providers
