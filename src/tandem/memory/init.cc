#include "tandem/memory/init.h"

#include "tandem/platform/atomic_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/verify/verify_md.h"

namespace tandem::memory {
namespace {

std::string EmptyPlan() {
  return "# Plan\n"
         "\n"
         "No tasks yet. `tandem plan \"<goal>\"` writes them here; you can also write\n"
         "or edit them yourself (format: docs/FORMATS.md, section plan.md), e.g.\n"
         "\n"
         "```\n"
         "- [ ] T1: Add the date parser\n"
         "  - do: Parse ISO-8601 dates in src/date.cc.\n"
         "  - scope: src/date.cc, tests/date_test.cc\n"
         "  - accept: gates build, test\n"
         "  - risk: reversible\n"
         "  - after: —\n"
         "```\n";
}

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
      detection.gates.empty()
          ? "No build system was detected: add gates below (format: docs/FORMATS.md)."
          : "Detected by `tandem init`; edit freely (format: docs/FORMATS.md).";
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
