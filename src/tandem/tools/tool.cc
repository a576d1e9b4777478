#include "tandem/tools/tool.h"

namespace tandem::tools {

protocol::ToolOutcome OutcomeOf(ToolOutcomeKind kind) {
  switch (kind) {
    case ToolOutcomeKind::kError: return protocol::ToolOutcome::kError;
    case ToolOutcomeKind::kRefused: return protocol::ToolOutcome::kRefused;
    case ToolOutcomeKind::kOk:
    case ToolOutcomeKind::kFinish: return protocol::ToolOutcome::kOk;
  }
  return protocol::ToolOutcome::kError;
}

ToolOutcome PathOutcome(std::string_view tool, const Status& status) {
  std::string message = std::string(tool) + ": " + status.message();
  return status.code() == StatusCode::kPermissionDenied ? Refused(std::move(message))
                                                        : Error(std::move(message));
}

nlohmann::json ObjectSchema(nlohmann::json properties, std::vector<std::string> required) {
  nlohmann::json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

nlohmann::json StringParam(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}

nlohmann::json IntegerParam(std::string description) {
  return {{"type", "integer"}, {"description", std::move(description)}};
}

}  // namespace tandem::tools
