#include "tandem/providers/tool_args.h"

namespace tandem::providers {

Result<protocol::ToolCall, protocol::ModelError> MakeToolCall(std::string_view provider, std::string id,
                                                              std::string name, std::string arguments_json) {
  auto malformed = [&](const std::string& why) {
    return protocol::ModelError{protocol::ModelErrorKind::kMalformed, 200,
                                std::string(provider) + ": tool call " + (name.empty() ? "?" : name) + " (" + id +
                                    "): " + why,
                                0};
  };
  if (name.empty()) return malformed("no tool name");
  if (arguments_json.find_first_not_of(" \t\r\n") == std::string::npos) arguments_json = "{}";
  nlohmann::json args = nlohmann::json::parse(arguments_json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) return malformed("arguments are not valid JSON");
  if (!args.is_object()) return malformed("arguments are not a JSON object");
  protocol::ToolCall call;
  call.id = std::move(id);
  call.name = std::move(name);
  call.arguments_json = std::move(arguments_json);
  call.arguments = std::move(args);
  return call;
}

std::string ArgumentsText(const protocol::ToolCall& call) {
  return call.arguments_json.empty() ? SafeDump(call.arguments) : call.arguments_json;
}

std::string SafeDump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tandem::providers
