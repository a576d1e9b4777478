#include "tandem/tools/tool.h"

namespace tandem::tools {

const char* ToolOutcomeKindName(ToolOutcomeKind kind) {
  switch (kind) {
    case ToolOutcomeKind::kOk: return "ok";
    case ToolOutcomeKind::kError: return "error";
    case ToolOutcomeKind::kRefused: return "refused";
    case ToolOutcomeKind::kFinish: return "finish";
  }
  return "unknown";
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
