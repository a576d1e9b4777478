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
  protocol::ToolCall call;
  call.id = std::move(id);
  call.name = std::move(name);
  if (args.is_discarded() || !args.is_object()) {
    // The model's slip, not the provider's failure: the call is delivered,
    // answered with a tool error, and replayed with empty arguments (a
    // provider may refuse to read back text that is not JSON).
    call.malformed = (args.is_discarded() ? "its arguments are not valid JSON ("
                                          : "its arguments are not a JSON object (") +
                     std::to_string(arguments_json.size()) + " bytes received)";
    call.arguments_json = "{}";
    return call;
  }
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
