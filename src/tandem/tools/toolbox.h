// ToolBox: the agent's tools for one workspace. Lists their specs (stable
// order, byte-identical JSON every time: they are part of the prompt's
// cacheable prefix), tells what a call may change before it runs, and runs
// calls.
//
// Every file operation goes through the workspace's PathGuard; commands go
// through the classifier and the sandbox (see tool.h ToolOptions). One
// ToolBox per agent; Execute may run concurrently on distinct ToolBoxes.
// A ToolBox is immutable after Create, so concurrent calls on one are safe
// too, though two edits of one file at once are not coordinated.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "tandem/protocol/model.h"
#include "tandem/tools/path_guard.h"
#include "tandem/tools/tool.h"

namespace tandem::tools {

class ToolBox {
 public:
  // Errors: kNotFound when `workspace` is not a directory.
  static Result<ToolBox> Create(const std::filesystem::path& workspace, ToolOptions options = {});

  // read_file, list_files, search, edit_file, write_file, run_command, finish.
  const std::vector<protocol::ToolSpec>& Specs() const { return specs_; }
  // The specs as one canonical JSON array (keys sorted): same bytes every call.
  const std::string& SpecsJson() const { return specs_json_; }

  // Before running: which paths the call may write and whether it runs a
  // command. Unknown tools, bad arguments and refused calls change nothing.
  ToolEffects Predict(const protocol::ToolCall& call) const;

  // Runs the call. Bad arguments and unknown tools are kError outcomes the
  // model can read; policy refusals kRefused. `cancel` stops a running command.
  ToolOutcome Execute(const protocol::ToolCall& call, const std::atomic<bool>* cancel = nullptr) const;

  const PathGuard& guard() const { return guard_; }
  const ToolOptions& options() const { return options_; }

 private:
  ToolBox(PathGuard guard, ToolOptions options);
  const ToolDef* Find(const std::string& name) const;

  PathGuard guard_;
  ToolOptions options_;
  std::vector<const ToolDef*> defs_;
  std::vector<protocol::ToolSpec> specs_;
  std::string specs_json_;
};

}  // namespace tandem::tools
