// The command classifier: decides, before a shell command runs, whether it
// stays inside the workspace and can be undone.
//
// ClassifyCommand parses the command (shell_parser.h) and checks every
// simple command it would run, including those inside $(...), backquotes,
// subshells, `sh -c '...'`, `xargs`, `find -exec` and wrappers such as
// env, nice, timeout. kIrreversible carries a reason meant for the model:
// what was refused and why. When the command cannot be understood (parse
// failure, eval, a command name known only at run time) it is refused.
// docs/GUARDRAILS.md lists every rule with examples. Thread-safe (pure).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem::tools {

enum class CommandRisk {
  kAllowed,       // stays inside the workspace; the post-step diff can undo it
  kIrreversible,  // reaches beyond the workspace or cannot be undone: needs approval
};

struct CommandVerdict {
  CommandRisk risk = CommandRisk::kAllowed;
  std::string reason;  // empty when allowed; e.g. "git push: publishes commits to a remote"
  bool allowed() const { return risk == CommandRisk::kAllowed; }
};

CommandVerdict ClassifyCommand(std::string_view command);

// What `tandem do` does with kIrreversible commands. The names double as
// configuration values.
enum class CommandPolicy {
  kRefuseRisky,  // "refuse-risky" (default): refused, the reason goes back to the model
  kAllowAll,     // "allow-all": run everything (still sandboxed when a sandbox runs)
};

std::optional<CommandPolicy> ParseCommandPolicy(std::string_view name);
const char* CommandPolicyName(CommandPolicy policy);

}  // namespace tandem::tools
