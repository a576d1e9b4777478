// run_command(command, timeout_s?): classify, then run `bash -c` in the
// sandbox with the child environment (platform/child_env.h), holding a token
// of the job budget (ToolOptions::jobs) while it runs; output capped
// head+tail.
#include <algorithm>

#include "tandem/platform/process.h"
#include "tandem/platform/sandbox.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

bool IsBlank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string command = StringArg(args, "command");
  if (IsBlank(command)) return Error("run_command: command is empty");
  long long timeout_s = IntArg(args, "timeout_s").value_or(ctx.options.command_timeout.count());
  timeout_s = std::clamp<long long>(timeout_s, 1, ctx.options.command_max_timeout.count());

  CommandVerdict verdict = ClassifyCommand(command);
  if (!verdict.allowed() && ctx.options.command_policy == CommandPolicy::kRefuseRisky) {
    return Refused("run_command refused: " + verdict.reason +
                   ". Commands that reach beyond the workspace or cannot be undone need the "
                   "user's approval; do without it, or finish and explain what is needed.");
  }
  CommandAvailability availability = CheckCommandAvailability(ctx.options.sandbox);
  if (!availability.available) {
    return Refused("run_command: commands are unavailable: " + availability.note);
  }

  platform::ProcessSpec spec;
  platform::ConfineProcess(availability.sandboxed ? platform::ProbeSandbox().bwrap : "",
                           ctx.options.child, ctx.guard.root().string(), "",
                           {"bash", "--noprofile", "--norc", "-c", command},
                           {{"TERM", "dumb"}, {"PAGER", "cat"}, {"GIT_PAGER", "cat"}, {"NO_COLOR", "1"}},
                           &spec);
  spec.timeout = std::chrono::seconds(timeout_s);
  spec.output_limit = ctx.options.command_output_limit;
  spec.cancel = ctx.cancel;
  // Taken only now: an approval or a refusal holds no job slot.
  platform::JobBudget::Token job;
  if (ctx.options.jobs != nullptr) {
    auto token = ctx.options.jobs->Acquire(ctx.cancel);
    if (!token) return Ok("cancelled by the user before the command started\n");
    job = std::move(*token);
  }
  auto result = platform::RunProcess(spec);
  if (!result) return Error("run_command: " + result.error().message());

  std::string content;
  if (result->timed_out) {
    content = "timed out after " + std::to_string(timeout_s) + " s; the command was killed\n";
  } else if (result->cancelled) {
    content = "cancelled by the user\n";
  } else if (result->exit_code >= 0) {
    content = "exit code " + std::to_string(result->exit_code) + "\n";
  } else {
    content = "killed by signal " + std::to_string(result->term_signal) + "\n";
  }
  content += result->output.empty() ? "(no output)\n" : SanitizeUtf8(result->output);
  ToolOutcome outcome = Ok(std::move(content));
  outcome.ran_command = true;
  if (result->exit_code >= 0) outcome.exit_code = result->exit_code;
  return outcome;
}

ToolEffects Effects(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string command = StringArg(args, "command");
  if (IsBlank(command)) return {};
  if (!ClassifyCommand(command).allowed() && ctx.options.command_policy == CommandPolicy::kRefuseRisky) {
    return {};
  }
  if (!CheckCommandAvailability(ctx.options.sandbox).available) return {};
  return {{}, true};
}

const ToolDef kDef{
    {"run_command",
     "Run a bash command in the workspace root (no network). Returns exit code and output "
     "(long output is cut in the middle).",
     ObjectSchema({{"command", StringParam("Command line.")},
                   {"timeout_s", IntegerParam("Default 120.")}},
                  {"command"})},
    &Run,
    &Effects};

}  // namespace

const ToolDef& RunCommandTool() { return kDef; }

CommandAvailability CheckCommandAvailability(SandboxMode mode,
                                             const platform::SandboxProbe& probe) {
  if (mode == SandboxMode::kOff) return {true, false, "the sandbox is off by configuration"};
  if (probe.available) return {true, true, ""};
  if (mode == SandboxMode::kPrefer) {
    return {true, false, "running commands without a sandbox: " + probe.reason};
  }
  // The names of docs/CONFIG.md's [sandbox] keys, which the user edits.
  return {false, false,
          probe.reason + " (to run commands and gates unsandboxed anyway, set sandbox.mode = "
                         "\"auto\" with sandbox.on_unavailable = \"run-unsandboxed\", or "
                         "sandbox.mode = \"none\")"};
}

}  // namespace tandem::tools
