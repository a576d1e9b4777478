// plan.md: the run's checklist of bounded tasks, written by the planner (or a
// person), executed by `tandem run`, and editable by a person at any time.
//
// Format (full description in docs/FORMATS.md, section "plan.md"):
//
//   # Plan: Parse dates everywhere
//   Prose anywhere outside tasks is ignored.
//
//   - [ ] T1: Add the date parser
//     - do: Parse ISO-8601 dates in src/date.cc.
//       Continuation lines (indented) belong to the field above.
//     - scope: src/date.cc, tests/date_test.cc
//     - accept: gates build, test; check `ctest -R date`
//     - risk: reversible
//     - after: —
//     - variants: 3      (optional: fan out to 3 variants, docs/FANOUT.md)
//
// Checkboxes: `[ ]` pending, `[~]` running, `[x]` done, `[!]` failed,
// `[-]` skipped, `[?]` waiting for approval.
//
// Parsing is strict inside tasks (an unknown field, a duplicate id, a
// dependency on an unknown id or a cycle are errors naming the line, what was
// expected and what was found), because a misread plan runs the wrong work.
// Updates are minimal edits (SetTaskState rewrites one character of one line)
// and atomic (atomic_file.h), so a person's formatting survives and a kill -9
// never leaves a torn plan. Plain functions; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

#include "tandem/protocol/vocabulary.h"

namespace tandem::memory {

// Where plan.md lives: the repository root, next to AGENTS.md and verify.md.
inline constexpr std::string_view kPlanFileName = "plan.md";

// A task's state and its routing class (reversible tasks go to the executor
// tier; irreversible ones to the slow tier, and wait for approval): the
// shared vocabulary, named by protocol::Name ("pending", ..., "reversible").
using protocol::Risk;
using protocol::TaskState;

// The checkbox character: ' ', '~', 'x', '!', '-', '?'.
char TaskStateMark(TaskState state);

// The most variants a task may fan out to (`variants: N`, `tandem do
// --variants N`).
inline constexpr int kMaxPlanVariants = 75;

struct PlanTask {
  std::string id;     // [A-Za-z][A-Za-z0-9_.-]*, unique in the plan, stable across edits
  std::string title;  // one line
  TaskState state = TaskState::kPending;
  std::string what;  // the `do` field: instructions; lines joined with '\n'
  std::vector<std::string> scope;  // path globs, repo-relative; empty = not restricted
  // Gates of verify.md that must pass; nullopt = all of them (the default);
  // an empty list = none (`gates none`), only the checks.
  std::optional<std::vector<std::string>> gates;
  std::vector<std::string> checks;  // extra shell commands that must exit 0
  Risk risk = Risk::kReversible;
  std::vector<std::string> after;  // ids of the tasks this one depends on
  // `review:` when the reviewer reads this task's change (review.policy's
  // values); nullopt: the configuration's review.policy.
  std::optional<protocol::ReviewPolicy> review;
  // `overlaps:` ids of tasks that may run beside it although their scopes
  // overlap (a merge conflict then sends one of them back).
  std::vector<std::string> may_overlap_with;
  // `variants:` how many agents try the task side by side (1..kMaxPlanVariants);
  // the top-ranked passing variant becomes its change (docs/FANOUT.md
  // "Fan-out tasks in plan.md"). 1: an ordinary task.
  int variants = 1;
  int line = 0;                    // 1-based line of the checkbox in the parsed text; 0 if built
  int accept_line = 0;             // the line of its `accept` field; 0 when none
};

struct Plan {
  std::string goal;  // from `# Plan: <goal>`; may be empty
  std::vector<PlanTask> tasks;  // in file order

  // nullptr when there is no task with that id.
  const PlanTask* Find(std::string_view id) const;
};

// Parses plan.md text (a UTF-8 byte-order mark at the top is skipped).
// Errors: kInvalidArgument, "line N: expected ..., found ..." (or naming the
// cycle: "dependency cycle T1 -> T2 -> T1"); text without any task (empty,
// binary, every task line misspelled) is an error saying so.
Result<Plan> ParsePlan(std::string_view text);

// Reads and parses `path`. kNotFound when missing; parse errors are prefixed
// with the path.
Result<Plan> LoadPlan(const std::filesystem::path& path);

// Renders a plan that ParsePlan reads back to the same goal and tasks (line
// numbers aside). Text fields are normalised the way ParsePlan normalises them
// (lines trimmed, blank lines kept inside `do`, newlines in one-line fields
// become spaces). REQUIRES: ids valid and unique, dependencies known and
// acyclic, gate names valid, no comma inside a scope glob.
std::string RenderPlan(const Plan& plan);

// The byte offset of `task`'s checkbox mark (the `c` of "- [c]") in `text`,
// the text it was parsed from (a byte-order mark before line 1 counted).
size_t TaskMarkOffset(std::string_view text, const PlanTask& task);

// Sets task `id`'s checkbox in the file at `path`, changing only that one
// character: every other byte (a person's spacing, prose, CRLF line ends)
// is kept. Re-parses the file first, so a malformed plan is refused
// (kInvalidArgument) and an unknown id is kNotFound. No write when the state
// is already `state`. Serialised with other tandem writers of the directory;
// kFailedPrecondition if the file changed during the update (retry).
Status SetTaskState(const std::filesystem::path& path, std::string_view id, TaskState state);

// Pending tasks whose dependencies are all done, in file order. A dependency
// that failed, was skipped or waits blocks its dependents.
std::vector<const PlanTask*> ReadyTasks(const Plan& plan);

}  // namespace tandem::memory
