#include "tandem/tools/toolbox.h"

#include <chrono>

#include "tandem/tools/tool_args.h"

namespace tandem::tools {

Result<ToolBox> ToolBox::Create(const std::filesystem::path& workspace, ToolOptions options) {
  PathGuard guard = TRY(PathGuard::Create(workspace));
  return ToolBox(std::move(guard), options);
}

ToolBox::ToolBox(PathGuard guard, ToolOptions options)
    : guard_(std::move(guard)), options_(options) {
  // The table: order is part of the prompt prefix, keep it stable.
  defs_ = {&ReadFileTool(), &ListFilesTool(), &SearchTool(), &EditFileTool(),
           &WriteFileTool(), &RunCommandTool(), &FinishTool()};
  nlohmann::json all = nlohmann::json::array();
  for (const ToolDef* def : defs_) {
    specs_.push_back(def->spec);
    all.push_back({{"name", def->spec.name},
                   {"description", def->spec.description},
                   {"parameters", def->spec.parameters}});
  }
  specs_json_ = all.dump();
}

const ToolDef* ToolBox::Find(const std::string& name) const {
  for (const ToolDef* def : defs_) {
    if (def->spec.name == name) return def;
  }
  return nullptr;
}

ToolEffects ToolBox::Predict(const protocol::ToolCall& call) const {
  const ToolDef* def = Find(call.name);
  if (def == nullptr || def->effects == nullptr) return {};
  if (!ValidateArgs(def->spec, call.arguments).ok()) return {};
  ToolContext ctx{guard_, options_, nullptr};
  return def->effects(call.arguments, ctx);
}

ToolOutcome ToolBox::Execute(const protocol::ToolCall& call, const std::atomic<bool>* cancel) const {
  const auto start = std::chrono::steady_clock::now();
  ToolOutcome outcome;
  const ToolDef* def = Find(call.name);
  if (def == nullptr) {
    std::string names;
    for (const ToolDef* d : defs_) names += (names.empty() ? "" : ", ") + d->spec.name;
    outcome = Error("unknown tool '" + call.name + "' (tools: " + names + ")");
  } else if (Status s = ValidateArgs(def->spec, call.arguments); !s.ok()) {
    outcome = Error(s.message());
  } else {
    ToolContext ctx{guard_, options_, cancel};
    outcome = def->run(call.arguments, ctx);
  }
  outcome.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace tandem::tools
