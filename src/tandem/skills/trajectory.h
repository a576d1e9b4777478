// A task's trajectory: what its agent did, kept per run so that a verified
// run can later be distilled into a skill (`tandem skills capture`,
// skills/capture.h). The file format is documented in docs/FORMATS.md
// ("Trajectories"): JSON Lines under the git common directory,
//   <git common dir>/tandem/trajectories/<run id>/run.jsonl        (tandem do)
//   <git common dir>/tandem/trajectories/<run id>/task-<id>.jsonl  (a plan task, a variant)
// where no commit can write (as the ledger, ledger/git_dirs.h). Each time
// the task runs (a retry after a failed merge, an escalation) appends one
// attempt: an `attempt` line, then the steps' entries, then an `end` line.
//
// Secrets: every text goes through Redactor::Apply as it is written, and
// long texts are cut (head and tail) to kMaxEntryBytes, so a trajectory is
// as safe to keep as the ledger.
//
// Thread-safety: free functions, no shared state. Appends to one file are
// not serialised here: one task never runs twice at the same time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::skills {

// A text longer than this is kept as its head and tail with a marker.
inline constexpr size_t kMaxEntryBytes = 16 * 1024;
// An attempt's entries stop (with a `truncated` line) past this many bytes.
inline constexpr size_t kMaxAttemptBytes = 4 * 1024 * 1024;

enum class EntryKind {
  kAssistant,   // the model's reply: text and tool calls
  kToolResult,  // one tool call's result
  kFeedback,    // what tandem told the model next (a rollback, a failed gate, a steer note)
  kGate,        // a gate's verdict on the step's tree
  kRollback,    // the step was rolled back, and why
  kDiff,        // the step's change that was kept, as a unified patch
};
std::string_view EntryKindName(EntryKind kind);  // "assistant", "tool_result", ...

struct TrajectoryToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // the JSON text the model produced
};

struct TrajectoryEntry {
  EntryKind kind = EntryKind::kAssistant;
  int step = 0;
  std::string text;  // reply text, result, feedback, excerpt, reason or patch
  std::vector<TrajectoryToolCall> calls;  // kAssistant
  std::string id;    // kToolResult: the call's id
  std::string name;  // kToolResult: the tool; kGate: the gate
  bool error = false;                                  // kToolResult: an error result
  protocol::Verdict verdict = protocol::Verdict::kPass;  // kGate
  bool cached = false;                                 // kGate: a verdict from the gate cache
};

struct TrajectoryGate {
  std::string name;
  std::string when;     // "each step", "final"
  std::string command;  // its first line
};

struct Attempt {
  // The `attempt` line.
  std::string run_id;
  std::string task_id;  // empty for `tandem do`
  std::string kind;     // "do", "run", "fanout", "eval"
  std::string goal;     // the task, in words
  std::vector<std::string> scope;
  std::string model;    // the model name that executed it
  std::vector<std::string> skills;  // the skills its first request carried
  std::vector<TrajectoryGate> gates;
  std::string base_checkpoint;
  int64_t started_ms = 0;
  // The entries, in order.
  std::vector<TrajectoryEntry> entries;
  bool truncated = false;  // entries past kMaxAttemptBytes were dropped
  // The `end` line; ended false when the attempt has none (a killed process).
  bool ended = false;
  protocol::Outcome outcome = protocol::Outcome::kError;
  std::string summary;
  int steps = 0;
  int retries = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  int64_t wall_ms = 0;
  std::string final_checkpoint;
};

// The file of (run, task) in the repository whose working tree is
// `repo_root`. kInvalidArgument when the run or task id could leave the
// folder (only letters, digits, '.', '_' and '-', not starting with '.');
// kNotFound without .git.
Result<std::filesystem::path> TrajectoryPath(const std::filesystem::path& repo_root,
                                             std::string_view run_id, std::string_view task_id);

// The JSON Lines of `attempt`, every text redacted and capped.
std::string RenderAttempt(const Attempt& attempt);

// Appends `attempt` to `path` (creating it and its folders, mode 0600/0700)
// in one write. Errors: kIo naming the path.
Status AppendAttempt(const std::filesystem::path& path, const Attempt& attempt);

// The attempts in a trajectory file's text, in order. kInvalidArgument
// naming the line for a line that is not an object of the format (a file
// cut short by a kill ends its last attempt without an `end` line, which is
// not an error).
Result<std::vector<Attempt>> ParseTrajectory(std::string_view text);

// ParseTrajectory of the file at `path` (at most 64 MiB). kNotFound when
// there is none.
Result<std::vector<Attempt>> ReadTrajectory(const std::filesystem::path& path);

// Redacts `text` and cuts it to `max_bytes` (head and tail, valid UTF-8).
std::string RedactAndCap(std::string_view text, size_t max_bytes = kMaxEntryBytes);

}  // namespace tandem::skills
