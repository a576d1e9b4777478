// ToolBox: the agent's tools for one workspace. Lists their specs (stable
// order, byte-identical JSON every time: they are part of the prompt's
// cacheable prefix), tells what a call may change before it runs, and runs
// calls.
//
// Every file operation goes through the workspace's PathGuard; commands go
// through the classifier and the sandbox, and hold a token of the process's
// job budget while they run (see tool.h ToolOptions). One
// ToolBox per agent; Execute may run concurrently on distinct ToolBoxes.
// A ToolBox is immutable after Create, so concurrent calls on one are safe
// too (its IrreversibleCommandHook then must be), though two edits of one
// file at once are not coordinated.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "tandem/protocol/model.h"
#include "tandem/tools/mcp_tools.h"
#include "tandem/tools/path_guard.h"
#include "tandem/tools/tool.h"

namespace tandem::tools {

// What decides a run_command whose command the classifier marks
// irreversible while the policy is refuse-risky (`tandem run`: the slow tier
// reviews it, then the approval policy or a person decides). Without a hook
// such a command is refused, as in `tandem do`.
struct CommandDecision {
  bool run = false;
  std::string reason;  // why; a refusal's reason goes back to the model
  // What deciding cost, so the task's limits see it: the slow tier's spend,
  // and the time a person took (not held against the task's wall-time limit).
  double review_cost_usd = 0;
  double human_wait_ms = 0;
};
using IrreversibleCommandHook =
    std::function<CommandDecision(const std::string& command, const std::string& why)>;

class ToolBox {
 public:
  // Errors: kNotFound when `workspace` is not a directory. `hook` (may be
  // empty) decides irreversible commands; an approved one runs outside the
  // sandbox (docs/GUARDRAILS.md, "Approved commands"), and the time spent
  // deciding is not part of the call's duration_ms.
  // `mcp` (may be null): the MCP servers' tools, offered after the
  // built-in ones (sorted by name). A call of an MCP tool not annotated
  // read-only may change anything (Predict says runs_command, the outcome
  // ran_command); one annotated destructive, or of a server allowed the
  // network, is decided by `hook` like an irreversible command (refused
  // without one) unless the command policy is allow-all.
  static Result<ToolBox> Create(const std::filesystem::path& workspace, ToolOptions options = {},
                                IrreversibleCommandHook hook = {},
                                std::shared_ptr<McpTools> mcp = nullptr);

  // read_file, list_files, search, edit_file, write_file, run_command, finish,
  // then the MCP tools.
  const std::vector<protocol::ToolSpec>& Specs() const { return specs_; }
  // The specs as one canonical JSON array (keys sorted): same bytes every call.
  const std::string& SpecsJson() const { return specs_json_; }

  // Before running: which paths the call may write and whether it runs a
  // command. Unknown tools, bad arguments and refused calls change nothing.
  ToolEffects Predict(const protocol::ToolCall& call) const;

  // Runs the call. Bad arguments (a malformed call's too) and unknown tools
  // are kError outcomes the model can read; policy refusals kRefused.
  // `cancel` stops a running command, or its wait for a job token.
  ToolOutcome Execute(const protocol::ToolCall& call, std::stop_token cancel = {}) const;

  const PathGuard& guard() const { return guard_; }
  const ToolOptions& options() const { return options_; }

 private:
  ToolBox(PathGuard guard, ToolOptions options, IrreversibleCommandHook hook,
          std::shared_ptr<McpTools> mcp);
  const McpTool* FindMcp(const std::string& name) const;
  ToolOutcome ExecuteMcp(const McpTool& tool, const protocol::ToolCall& call,
                         std::stop_token cancel) const;
  const ToolDef* Find(const std::string& name) const;
  // The command of a run_command call the hook must decide, or nullopt.
  std::optional<std::string> NeedsDecision(const protocol::ToolCall& call) const;

  PathGuard guard_;
  ToolOptions options_;
  IrreversibleCommandHook hook_;
  std::shared_ptr<McpTools> mcp_;
  std::vector<const ToolDef*> defs_;
  std::vector<protocol::ToolSpec> specs_;
  std::string specs_json_;
};

}  // namespace tandem::tools
