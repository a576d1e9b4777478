// Capturing a verified task as a skill (docs/SKILLS.md, "Capture"):
// `tandem skills capture RUN[/TASK]`, and after a verified task as
// skills.capture says. Checks in the ledger that tandem verified the task
// (a `tandem do` run that succeeded, a plan task done, a fan-out variant
// that passed), reads its trajectory (skills/trajectory.h), has the planner
// role distill it (orchestrator/skill_capture.h) and writes
// .agents/skills/<name>/SKILL.md with evals/evals.json (and the same under
// .claude/skills/ with --export claude).
//
// Thread-safety: called from a subcommand's thread, once at a time.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "tandem/cli/command_io.h"
#include "tandem/ledger/ledger.h"

namespace tandem::cli {

struct Runtime;

struct CaptureOptions {
  std::string source;  // "RUN" or "RUN/TASK" (a plan task, or vN for a fan-out variant)
  std::string name;    // --name: the skill's name instead of the planner's
  std::string model;   // --model: the planner's model (default: the planner role)
  bool export_claude = false;  // --export claude: also .claude/skills/<name>/
};

// Captures `options.source`; prints what it wrote to `out`, problems to
// `err`. Returns the exit code: 0 written; kExitUsage for an unknown or
// unverified source, a bad name, or a skill of that name already there;
// kExitProvider when the planner failed; kExitInternal for I/O.
int CaptureSkill(Runtime& rt, ledger::Ledger& ledger, const CaptureOptions& options,
                 std::FILE* out, std::FILE* err);

// After verified tasks `sources` ("RUN" or "RUN/TASK") ended, as
// skills.capture says: auto captures each; ask asks first on the terminal
// (only when stdin and `io.out` are terminals and $CI is unset; otherwise,
// and in --json mode, it does nothing), or, when `may_ask` is false
// (`tandem run`, whose terminal belongs to its live view), prints the
// commands that would capture them; off does nothing. A capture that fails
// is a warning on io.err; the run's exit code stays as it was.
void CaptureAfterTasks(Runtime& rt, ledger::Ledger& ledger, const std::vector<std::string>& sources,
                       const CommandIo& io, bool json, bool may_ask = true);

}  // namespace tandem::cli
