#include "tandem/memory/init.h"

#include <string>
#include <string_view>

#include "tandem/platform/atomic_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/verify/verify_md.h"

namespace tandem::memory {
namespace {

// The files explain their own format: the user's repository has no tandem
// docs to point at.
std::string EmptyPlan() {
  return "# Plan\n"
         "\n"
         "No tasks yet. `tandem plan \"<goal>\"` writes them here; you can also write\n"
         "or edit them yourself, at any time, and `tandem run` does the pending ones.\n"
         "A task is a checkbox line at the left margin followed by indented fields,\n"
         "like this (inside the ``` fence it is only an example):\n"
         "\n"
         "```\n"
         "- [ ] T1: Add the date parser\n"
         "  - do: Parse ISO-8601 dates in src/date.cc.\n"
         "    Indented lines continue the field above.\n"
         "  - scope: src/date.cc, tests/date_test.cc\n"
         "  - accept: gates build, test; check `ctest -R date`\n"
         "  - risk: reversible\n"
         "  - after: —\n"
         "```\n"
         "\n"
         "```\n"
         "[ ] pending  [~] running  [x] done  [!] failed  [-] skipped  [?] waits for approval\n"
         "T1      the id: a letter, then letters, digits, _ . or -; unique, never renumbered\n"
         "do      what to do (required)\n"
         "scope   comma-separated path globs the task may change (default: any path)\n"
         "accept  `gates all`, `gates none` or gate names from verify.md, and/or\n"
         "        check `<a command that must exit 0>`; separate them with ; (default: gates all)\n"
         "risk    reversible (default), or irreversible: waits for your approval and runs\n"
         "        on the slow tier (pushing, publishing, deleting data, ...)\n"
         "after   ids of the tasks that must be done first, comma-separated, or — (none)\n"
         "```\n"
         "\n"
         "Anything that is not a task, like this text, is ignored.\n";
}

// verify.md's own description of its format (prose: verify.md reads a code
// block outside a gate as an error, so there is no example block).
constexpr std::string_view kVerifyFormat =
    "Each gate is a `## <name> (<options>)` heading followed by one ```sh code block:\n"
    "the command, run by /bin/sh -e from the repository root; exit 0 passes.\n"
    "Options, comma-separated, all optional: `each step` (the default: after every\n"
    "step that edited files) or `final` (only when a task ends); `timeout 300s`\n"
    "(ms, s, m or h; default 300s); `in <dir>` (working directory); `after <gate>`\n"
    "(start once that gate, defined above, has passed). Anything else, like this\n"
    "text, is ignored.";

}  // namespace

std::string AgentsTemplate() {
  return "# AGENTS.md\n"
         "\n"
         "Instructions for the coding agents working in this repository. Every agent\n"
         "reads this file first; keep it short and true.\n"
         "\n"
         "## Project\n"
         "\n"
         "TODO: one paragraph: what this project is, and the layout of its folders.\n"
         "\n"
         "## Roles\n"
         "\n"
         "- planner (slow model): turns a goal into plan.md, small bounded tasks.\n"
         "- executor (fast model): does one task of plan.md, inside its scope, until\n"
         "  its gates pass; changes nothing outside the scope.\n"
         "- reviewer (slow model): reviews the diff of a finished task.\n"
         "\n"
         "## Conventions\n"
         "\n"
         "TODO: code style, naming, how errors are handled, what needs a test.\n"
         "\n"
         "- Make the smallest change that does the task; no drive-by refactors.\n"
         "- Never delete or rewrite tests to make a gate pass.\n"
         "\n"
         "## Memory files (repository root)\n"
         "\n"
         "- AGENTS.md: this file, rules for every agent.\n"
         "- verify.md: the gates (build, test, ...) every edit must pass.\n"
         "- plan.md: the checklist of tasks for the current goal.\n"
         "- progress.md: what was done, decisions, failures, open questions, next.\n";
}

Result<InitReport> InitRepository(const std::filesystem::path& root,
                                  const verify::Detection& detection) {
  std::string intro =
      (detection.gates.empty() ? "No build system was detected: add the commands that build and\n"
                                 "test this repository as gates below.\n"
                               : "Detected by `tandem init`; edit freely.\n") +
      std::string(kVerifyFormat);
  const std::pair<std::string_view, std::string> files[] = {
      {kAgentsFileName, AgentsTemplate()},
      {verify::kVerifyFileName, verify::RenderVerifyMd(detection.gates, intro)},
      {kPlanFileName, EmptyPlan()},
      {kProgressFileName, EmptyProgress()},
  };
  InitReport report;
  for (const auto& [name, content] : files) {
    Status s = platform::WriteFileAtomically(root / name, content, platform::WriteOptions::CreateOnly());
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    report.files.push_back({std::string(name), s.ok()});
  }

  auto written = [&](std::string_view name) {
    for (const InitFile& f : report.files) {
      if (f.name == name) return f.written;
    }
    return false;
  };
  if (written(kAgentsFileName)) {
    report.next_steps.push_back(
        "Edit AGENTS.md: describe the project and its conventions (the TODO lines).");
  }
  if (written(verify::kVerifyFileName)) {
    report.next_steps.push_back(
        detection.gates.empty()
            ? "Edit verify.md: no build system was detected, so add the commands that build "
              "and test this repository; until then edits are not verified."
            : "Check verify.md: " + detection.description +
                  " Adjust the commands and timeouts if they are not how you build and test.");
  }
  report.next_steps.push_back("Run `tandem plan \"<goal>\"` to write plan.md, then `tandem run`.");
  return report;
}

}  // namespace tandem::memory
