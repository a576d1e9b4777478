// finish(summary): the model says the task is done. tandem then verifies it.
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  ToolOutcome outcome;
  outcome.kind = ToolOutcomeKind::kFinish;
  outcome.content = StringArg(args, "summary");
  return outcome;
}

const ToolDef kDef{{"finish", "Call when the task is done.",
                    ObjectSchema({{"summary", StringParam("What you changed and why, briefly.")}},
                                 {"summary"})},
                   &Run,
                   nullptr};

}  // namespace

const ToolDef& FinishTool() { return kDef; }

}  // namespace tandem::tools
