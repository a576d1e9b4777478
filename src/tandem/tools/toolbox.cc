#include "tandem/tools/toolbox.h"

#include <chrono>

#include "tandem/tools/tool_args.h"

namespace tandem::tools {

Result<ToolBox> ToolBox::Create(const std::filesystem::path& workspace, ToolOptions options,
                                IrreversibleCommandHook hook, std::shared_ptr<McpTools> mcp) {
  PathGuard guard = TRY(PathGuard::Create(workspace));
  return ToolBox(std::move(guard), options, std::move(hook), std::move(mcp));
}

ToolBox::ToolBox(PathGuard guard, ToolOptions options, IrreversibleCommandHook hook,
                 std::shared_ptr<McpTools> mcp)
    : guard_(std::move(guard)), options_(options), hook_(std::move(hook)), mcp_(std::move(mcp)) {
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
  for (const McpTool& tool : mcp_ ? mcp_->tools() : std::vector<McpTool>{}) {  // sorted
    specs_.push_back(tool.spec);
    all.push_back({{"name", tool.spec.name},
                   {"description", tool.spec.description},
                   {"parameters", tool.spec.parameters}});
  }
  specs_json_ = all.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const McpTool* ToolBox::FindMcp(const std::string& name) const {
  return mcp_ && name.starts_with("mcp__") ? mcp_->Find(name) : nullptr;
}

ToolOutcome ToolBox::ExecuteMcp(const McpTool& tool, const protocol::ToolCall& call,
                                std::stop_token cancel) const {
  if (!call.arguments.is_object()) return Error(call.name + ": arguments must be a JSON object");
  CommandDecision decision{true, "", 0, 0};
  if (tool.needs_approval && options_.command_policy == CommandPolicy::kRefuseRisky) {
    const std::string why =
        "an MCP tool annotated destructive, or whose server may reach the network,";
    if (!hook_) {
      return Refused(call.name + " refused: " + why +
                     " needs the user's approval; do without it, or finish and explain what is "
                     "needed.");
    }
    decision = hook_(call.name + " " + call.arguments.dump(-1, ' ', false,
                                                           nlohmann::json::error_handler_t::replace),
                     why);
    if (!decision.run) {
      ToolOutcome refused = Refused(call.name + " refused: " + decision.reason);
      refused.review_cost_usd = decision.review_cost_usd;
      refused.human_wait_ms = decision.human_wait_ms;
      return refused;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  ToolOutcome outcome = mcp_->Call(tool, call.arguments, cancel);
  outcome.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  outcome.review_cost_usd = decision.review_cost_usd;
  outcome.human_wait_ms = decision.human_wait_ms;
  return outcome;
}

const ToolDef* ToolBox::Find(const std::string& name) const {
  for (const ToolDef* def : defs_) {
    if (def->spec.name == name) return def;
  }
  return nullptr;
}

std::optional<std::string> ToolBox::NeedsDecision(const protocol::ToolCall& call) const {
  if (!hook_ || call.name != RunCommandTool().spec.name ||
      options_.command_policy != CommandPolicy::kRefuseRisky) {
    return std::nullopt;
  }
  std::string command = StringArg(call.arguments, "command");
  if (command.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  if (ClassifyCommand(command).allowed()) return std::nullopt;
  return command;
}

ToolEffects ToolBox::Predict(const protocol::ToolCall& call) const {
  if (const McpTool* tool = FindMcp(call.name)) {
    if (!call.malformed.empty() || !call.arguments.is_object() || tool->read_only) return {};
    return {{}, true};  // unknown effect: the whole tree is checkpointed and re-scanned
  }
  const ToolDef* def = Find(call.name);
  if (def == nullptr || def->effects == nullptr || !call.malformed.empty()) return {};
  if (!ValidateArgs(def->spec, call.arguments).ok()) return {};
  // A command the hook may approve may change anything.
  if (NeedsDecision(call)) return {{}, true};
  ToolContext ctx{guard_, options_, {}};
  return def->effects(call.arguments, ctx);
}

ToolOutcome ToolBox::Execute(const protocol::ToolCall& call, std::stop_token cancel) const {
  const auto start = std::chrono::steady_clock::now();
  ToolOutcome outcome;
  const ToolDef* def = Find(call.name);
  if (!call.malformed.empty()) {
    outcome = Error(call.name + ": not run, " + call.malformed +
                    "; send the call again with complete JSON arguments");
  } else if (const McpTool* tool = def == nullptr ? FindMcp(call.name) : nullptr) {
    return ExecuteMcp(*tool, call, cancel);
  } else if (def == nullptr) {
    std::string names;
    for (const auto& spec : specs_) names += (names.empty() ? "" : ", ") + spec.name;
    outcome = Error("unknown tool '" + call.name + "' (tools: " + names + ")");
  } else if (Status s = ValidateArgs(def->spec, call.arguments); !s.ok()) {
    outcome = Error(s.message());
  } else if (std::optional<std::string> command = NeedsDecision(call)) {
    CommandDecision decision = hook_(*command, ClassifyCommand(*command).reason);
    // The decision is not the tool's time (the review is model time, the
    // prompt a person's): a refusal takes none, an approved run counts from here.
    if (!decision.run) {
      outcome = Refused("run_command refused: " + decision.reason);
      outcome.review_cost_usd = decision.review_cost_usd;
      outcome.human_wait_ms = decision.human_wait_ms;
      return outcome;
    }
    // Approved exactly as written: the classifier's refusal is lifted, and
    // the sandbox (no network, read-only outside the workspace and .git),
    // which would defeat what was approved, is left out.
    ToolOptions approved = options_;
    approved.command_policy = CommandPolicy::kAllowAll;
    approved.sandbox = SandboxMode::kOff;
    ToolContext ctx{guard_, approved, cancel};
    const auto run_start = std::chrono::steady_clock::now();
    outcome = def->run(call.arguments, ctx);
    outcome.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - run_start)
            .count();
    outcome.review_cost_usd = decision.review_cost_usd;
    outcome.human_wait_ms = decision.human_wait_ms;
    return outcome;
  } else {
    ToolContext ctx{guard_, options_, cancel};
    outcome = def->run(call.arguments, ctx);
  }
  outcome.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace tandem::tools
