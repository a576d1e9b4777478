// Tool-call arguments shared by both wire formats: validating what a model
// streamed, and the text to replay when sending a call back.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/base/status.h"
#include "tandem/protocol/model.h"

namespace tandem::providers {

// Builds a ToolCall from streamed parts. `arguments_json` should be a JSON
// object (blank text counts as {}); otherwise the call comes back with
// `malformed` set (ToolCall::malformed), for the model to correct. An empty
// `name` is a kMalformed error (not retried: the model's output is at fault).
Result<protocol::ToolCall, protocol::ModelError> MakeToolCall(std::string_view provider, std::string id,
                                                              std::string name, std::string arguments_json);

// The exact argument text to send back: arguments_json when present, else
// the serialized `arguments`.
std::string ArgumentsText(const protocol::ToolCall& call);

// json::dump that never throws: invalid UTF-8 is replaced, not fatal.
std::string SafeDump(const nlohmann::json& j);

}  // namespace tandem::providers
