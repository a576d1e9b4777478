// Validates a tool call's arguments against the tool's JSON Schema (the
// subset tandem's specs use: an object of string, integer, number, boolean
// and array (of strings, when items say so) properties, some required, no
// others) with messages the model can act on:
// "edit_file: missing required argument 'old_text'".
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tandem/base/status.h"
#include "tandem/protocol/model.h"

namespace tandem::tools {

// kInvalidArgument with the message above when `args` does not fit.
// Integers given as integral floats (5.0) or digit strings ("5") are
// accepted: models produce both.
Status ValidateArgs(const protocol::ToolSpec& spec, const nlohmann::json& args);

// Accessors for validated arguments.
std::string StringArg(const nlohmann::json& args, const char* name, std::string fallback = "");
std::optional<long long> IntArg(const nlohmann::json& args, const char* name);

}  // namespace tandem::tools
