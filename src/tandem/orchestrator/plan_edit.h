// Edits of plan.md text made by the orchestrator when the planner re-plans a
// failed task. Like memory::SetTaskState they change only the lines they
// must (the failed task's block, its dependents' `after` lines), so a
// person's prose and formatting elsewhere survive, and every result is
// re-parsed before it is returned: an edit never produces a malformed plan.
// Pure functions on strings; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/memory/plan_md.h"

namespace tandem::orchestrator {

// Splits task `id`: marks it skipped (`[-]`), inserts `parts` (pending) right
// after its block, makes each part depend on what `id` depended on (plus the
// dependencies among the parts it names), and makes every task that depended
// on `id` depend on all the parts instead. Errors: kNotFound (no such task),
// kInvalidArgument (an id already taken, no parts, or the result does not
// parse, with the parser's message).
Result<std::string> SplitTaskInText(std::string_view text, std::string_view id,
                                    std::vector<memory::PlanTask> parts);

// Replaces task `id`'s block with `rewritten` (same id, pending, the old
// dependencies kept). Errors as SplitTaskInText.
Result<std::string> RewriteTaskInText(std::string_view text, std::string_view id,
                                      memory::PlanTask rewritten);

// Sets the checkbox of task `id` in `text` (one character).
Result<std::string> SetMarkInText(std::string_view text, std::string_view id,
                                  memory::TaskState state);

// The task blocks of `plan` (as RenderPlan writes them), without the
// `# Plan` heading: for insertion into an existing plan.md.
std::string RenderTaskBlocks(const std::vector<memory::PlanTask>& tasks);

}  // namespace tandem::orchestrator
