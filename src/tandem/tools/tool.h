// The pieces every agent tool shares: what a tool returns (ToolOutcome),
// what it may change before it runs (ToolEffects), its options, and the
// table row (ToolDef) that ToolBox dispatches on.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/platform/job_budget.h"
#include "tandem/platform/sandbox.h"
#include "tandem/protocol/model.h"
#include "tandem/protocol/vocabulary.h"
#include "tandem/tools/command_policy.h"
#include "tandem/tools/path_guard.h"

namespace tandem::tools {

enum class ToolOutcomeKind {
  kOk,
  kError,    // bad arguments or the operation failed: the model reads why and corrects itself
  kRefused,  // blocked by policy (path guard, command classifier, no sandbox)
  kFinish,   // the finish tool: the model says it is done (tandem still verifies)
};

// The recorded outcome (events, the ledger): kFinish is kOk.
protocol::ToolOutcome OutcomeOf(ToolOutcomeKind kind);

struct ToolOutcome {
  ToolOutcomeKind kind = ToolOutcomeKind::kOk;
  std::string content;                     // what the model sees; always valid UTF-8
  std::vector<std::string> paths_written;  // workspace-relative
  bool ran_command = false;                // a command ran: anything in the workspace may have changed
  std::optional<int> exit_code;            // run_command only
  double duration_ms = 0;
  // run_command under an IrreversibleCommandHook: what the decision cost.
  double review_cost_usd = 0;
  double human_wait_ms = 0;
};

// What a call may change, known before it runs; the agent checkpoints
// exactly these paths (or the whole tree when a command runs).
struct ToolEffects {
  std::vector<std::string> may_write;  // workspace-relative
  bool runs_command = false;
};

// Where commands run.
// How commands are contained, resolved from the configuration's [sandbox]
// (agent/task_runner.cc): mode "bwrap", or "auto" with on_unavailable
// "refuse" -> kRequire; "auto" with "run-unsandboxed" -> kPrefer; "none" -> kOff.
enum class SandboxMode {
  kRequire,  // bubblewrap, or commands are refused (the default)
  kPrefer,   // bubblewrap when it can start, else run unsandboxed
  kOff,      // never sandbox
};

struct ToolOptions {
  CommandPolicy command_policy = CommandPolicy::kRefuseRisky;
  SandboxMode sandbox = SandboxMode::kRequire;
  platform::ChildPolicy child;  // environment, home and network of commands
  size_t read_max_bytes = 32 * 1024;  // read_file output budget
  int read_max_lines = 1000;
  size_t max_line_chars = 1000;        // longer lines are cut (minified files)
  size_t edit_max_file_bytes = 8 * 1024 * 1024;
  size_t command_output_limit = 16 * 1024;
  std::chrono::seconds command_timeout{120};  // default for run_command
  std::chrono::seconds command_max_timeout{1800};
  size_t list_max_entries = 400;
  size_t search_max_matches = 100;
  // The process's job budget (platform/job_budget.h), shared with every
  // agent's commands and gates: run_command holds a token while its command
  // runs. Not owned; null: commands run without one.
  platform::JobBudget* jobs = nullptr;
};

// Everything a tool may use while it runs. Not owned.
struct ToolContext {
  const PathGuard& guard;
  const ToolOptions& options;
  std::stop_token cancel;  // a running command is killed, a wait for a job token ends
};

// One row of the tool table.
struct ToolDef {
  protocol::ToolSpec spec;
  ToolOutcome (*run)(const nlohmann::json& args, const ToolContext& ctx);
  ToolEffects (*effects)(const nlohmann::json& args, const ToolContext& ctx);  // null: none
};

// The tool table rows, one per file.
const ToolDef& ReadFileTool();
const ToolDef& ListFilesTool();
const ToolDef& SearchTool();
const ToolDef& EditFileTool();
const ToolDef& WriteFileTool();
const ToolDef& RunCommandTool();
const ToolDef& FinishTool();

// Helpers for tool implementations.
inline ToolOutcome Ok(std::string content) { return {ToolOutcomeKind::kOk, std::move(content), {}, false, {}, 0}; }
inline ToolOutcome Error(std::string content) {
  return {ToolOutcomeKind::kError, std::move(content), {}, false, {}, 0};
}
inline ToolOutcome Refused(std::string content) {
  return {ToolOutcomeKind::kRefused, std::move(content), {}, false, {}, 0};
}
// A PathGuard error as an outcome: policy refusals are kRefused, the rest kError.
ToolOutcome PathOutcome(std::string_view tool, const Status& status);

// JSON-Schema helpers for specs: {"type":"object","properties":...,"required":...}.
nlohmann::json ObjectSchema(nlohmann::json properties, std::vector<std::string> required);
nlohmann::json StringParam(std::string description);
nlohmann::json IntegerParam(std::string description);

}  // namespace tandem::tools

namespace tandem::tools {

// Whether run_command can run commands under `mode` here, and how, given
// what `probe` found of bubblewrap (by default the process's one probe,
// platform::ProbeSandbox).
struct CommandAvailability {
  bool available = false;
  bool sandboxed = false;
  // Why unavailable or unsandboxed, empty when sandboxed; when unavailable,
  // also the configuration (docs/CONFIG.md [sandbox]) that would run them.
  std::string note;
};
CommandAvailability CheckCommandAvailability(
    SandboxMode mode, const platform::SandboxProbe& probe = platform::ProbeSandbox());

}  // namespace tandem::tools
