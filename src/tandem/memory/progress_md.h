// progress.md: the run's state in prose, for people and for the next process.
// What each task came to (outcome, retries, summary), decisions, failures,
// open questions, steering notes, and what comes next.
//
// Format (full description in docs/FORMATS.md, section "progress.md"):
//
//   # Progress
//   (prose)
//
//   ## Next
//   - T3: Add the formatter
//
//   ## Notes
//   - steer: don't touch the types yet
//
//   ## T1: Add the date parser
//   - outcome: done (2 retries)
//   - summary: ParseIsoDate in src/date.cc; tests in tests/date_test.cc
//   - failure: attempt 1: gate test failed: date_test.cc:14 ...
//
// One `## ` section per task (`## <id>: <title>`), in the order tasks were
// first recorded, plus `## Next` and `## Notes` (notes that concern no one
// task). Entries are list items `- <kind>: <text>`; indented lines continue
// an entry. Everything else is prose and is kept.
//
// Updates change one section and keep every other byte (a person may write
// here too); each is atomic (atomic_file.h), serialised with other tandem
// writers of the directory, and creates the file when it is missing. Reading
// is lenient: progress.md is a log, and a person's odd edit must not stop a
// run. Plain functions; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/memory/plan_md.h"

namespace tandem::memory {

// Where progress.md lives: the repository root, next to plan.md.
inline constexpr std::string_view kProgressFileName = "progress.md";

enum class NoteKind { kDecision, kFailure, kQuestion, kSteer, kNote };
// "decision", "failure", "question", "steer", "note": the entry's label.
std::string_view NoteKindName(NoteKind kind);

struct TaskOutcome {
  std::string id;
  std::string title;  // used when the task's section is created
  TaskState state = TaskState::kPending;
  int retries = 0;
  std::string summary;  // may span lines
};

// The file `tandem init` writes: a title, a line of explanation, and empty
// Next and Notes sections.
std::string EmptyProgress();

// Sets the outcome and summary entries of task `outcome.id` (creating its
// section at the end), keeping its other entries. Errors: kIo, and
// kFailedPrecondition if the file kept changing under tandem.
Status RecordOutcome(const std::filesystem::path& path, const TaskOutcome& outcome);

// Appends `- <kind>: <text>` to task `task_id`'s section (created if needed,
// titled with the id), or to `## Notes` when `task_id` is empty. When an
// entry of the section says the same, its repeat count goes up instead:
// `- failure: gate test failed (×2)`.
Status AppendNote(const std::filesystem::path& path, std::string_view task_id, NoteKind kind,
                  std::string_view text);

// Replaces the body of `## Next` with one list item per entry of `items`.
Status SetNext(const std::filesystem::path& path, const std::vector<std::string>& items);

// The outcomes recorded in `text`, in file order (sections without an
// outcome entry are left out). Lenient: unreadable entries are skipped.
std::vector<TaskOutcome> ReadOutcomes(std::string_view text);

// The part of progress.md that concerns task `task_id`, for an executor's
// context: its own section, the `## Notes` section and the sections of
// `related` tasks (e.g. its dependencies), in file order, at most `max_bytes`.
// When the budget is short, entries are kept in this order: the task's outcome
// and summary, its other entries newest first, general notes newest first,
// related outcomes and summaries, related entries newest first; left-out
// entries are counted in a "[... N entries omitted ...]" line under the
// section heading.
std::string ExtractForTask(std::string_view text, std::string_view task_id, size_t max_bytes,
                           const std::vector<std::string>& related = {});

}  // namespace tandem::memory
