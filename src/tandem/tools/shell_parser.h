// ParseShell: splits a POSIX/bash command line into the simple commands it
// would run, for the command classifier (command_policy.h).
//
// It understands what matters for deciding what a command does: quoting
// ('...', "...", \x, $'...'), operators (&&, ||, ;, |, |&, &, newlines),
// subshells ( ... ), redirections (>, >>, 2>, &>, >&2, <, <<EOF heredocs,
// <<<), and substitutions ($(...), `...`, <(...), >(...)), whose inner
// commands are returned too, before the command that contains them. Values
// known only at run time ($VAR, ${...}, substitutions, $((...))) mark the
// word `dynamic`. Constructs it does not model (case, function definitions,
// unbalanced quotes or parentheses) make it fail, so the caller can refuse.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::tools {

struct ShellWord {
  std::string text;       // after quote removal; dynamic parts are kept verbatim
  bool dynamic = false;   // contains $VAR, ${..}, $(..), `..`, $((..)), $'..'
  bool glob = false;      // unquoted *, ? or [
  bool brace = false;     // unquoted {a,b}-style brace expansion
  bool quoted = false;    // some part was quoted
};

struct ShellRedirect {
  std::string op;  // ">", ">>", ">|", "&>", "&>>", ">&", "<", "<&", "<>", "<<", "<<-", "<<<"
  ShellWord target;
};

struct ShellCommand {
  std::vector<ShellWord> assignments;  // NAME=value prefixes
  std::vector<ShellWord> words;        // command name and arguments
  std::vector<ShellRedirect> redirects;
  bool piped_input = false;            // stdin comes from a preceding `|`
};

// Errors: kInvalidArgument naming what could not be parsed.
Result<std::vector<ShellCommand>> ParseShell(std::string_view script);

}  // namespace tandem::tools
