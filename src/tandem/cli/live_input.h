// The live view's input: while `tandem run` / `tandem resume` runs attached
// to a terminal, one reader thread owns the terminal's input and turns each
// typed line into an op on the run's LiveOps (orchestrator/ops.h), the one
// queue every input of a live run goes through:
//   y [reason] | n [reason]     answers the open approval prompt
//   y ID [reason] | n ID [...]  answers approval ID (needed when several are open)
//   /approve ID [reason], /deny ID [reason]
//   /steer TASK note            a steer note for one task
//   /cancel TASK                cancels one task (the others go on)
//   /stop                       stops the run, like Ctrl-C
//   any other line              a steer note for the running tasks
// It is also the front end that shows each approval prompt, with its id, as
// the request opens (LiveOps::Watch). Nothing else reads the terminal.
//
// Active only when the fd is a terminal and tandem is in its foreground
// process group (ShouldRead): a backgrounded run would be stopped by
// SIGTTIN, and piped stdin is not a person typing.
//
// Thread-safety: the watcher runs on the thread that opens an approval;
// prompts and replies are written under a mutex of LiveInput's own.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tandem/base/mutex.h"
#include "tandem/base/status.h"
#include "tandem/orchestrator/ops.h"

namespace tandem::cli {

// "y because ..." -> approved with reason "because ..."; anything not
// y/yes is a denial.
orchestrator::ApprovalAnswer ParseApprovalLine(std::string line);

// The op a typed line stands for, given the approvals open now (see the
// table above). InvalidArgument, with what to type instead, for a command
// it cannot read or an answer that names no open approval; nullopt for a
// blank line.
Result<std::optional<orchestrator::Op>> ParseLiveLine(
    std::string_view line, const std::vector<orchestrator::OpenApproval>& open);

// `text` safe to show a person who must see exactly what will run: control
// characters (ESC, CR, backspace, C1 codes...) appear as \xNN / \uNNNN
// escapes instead of acting on the terminal, and each further line of a
// multi-line text starts with "  | ".
std::string ShowControlChars(std::string_view text);

// The prompt shown for approval `id` (its question line ends without a
// newline). What and why go through ShowControlChars.
std::string ApprovalPrompt(const orchestrator::OpenApproval& approval);

class LiveInput {
 public:
  // True when `fd` is a terminal whose foreground process group is ours.
  static bool ShouldRead(int fd);

  // Starts reading lines from `fd` (not owned) into `ops` (not owned; it
  // outlives this); prompts and replies go to `prompt_out` (the terminal).
  LiveInput(int fd, std::FILE* prompt_out, orchestrator::LiveOps& ops);
  ~LiveInput();  // stops the reader and stops answering approvals
  LiveInput(const LiveInput&) = delete;
  LiveInput& operator=(const LiveInput&) = delete;

 private:
  void Read();
  void Line(const std::string& line);
  void Show(const std::string& text);

  int fd_;
  std::FILE* prompt_out_;
  orchestrator::LiveOps& ops_;
  int watch_ = 0;
  int wake_[2] = {-1, -1};
  Mutex out_mu_;  // one prompt or reply written at a time
  std::thread reader_;
};

}  // namespace tandem::cli
