// The live view's input: while `tandem run` / `tandem resume` runs attached
// to a terminal, one reader thread owns the terminal's input. A line the
// person types becomes a steer note (the caller's `on_note`, which takes the
// same path as `tandem steer`); while an approval prompt is open (Ask), the
// next line answers the prompt instead. Nothing else reads the terminal, so
// the prompt and the notes never fight over it.
//
// Active only when stdin is a terminal and tandem is in its foreground
// process group (ShouldRead): a backgrounded run would be stopped by
// SIGTTIN, and piped stdin is not a person typing.
//
// Thread-safety: Ask and Cancel may be called from any thread; `on_note`
// runs on the reader thread.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "tandem/orchestrator/approval.h"

namespace tandem::cli {

// "y because ..." -> approved with reason "because ..."; anything not
// y/yes is a denial.
orchestrator::ApprovalAnswer ParseApprovalLine(std::string line);

// `text` safe to show a person who must see exactly what will run: control
// characters (ESC, CR, backspace, C1 codes...) appear as \xNN / \uNNNN
// escapes instead of acting on the terminal, and each further line of a
// multi-line text starts with "  | ".
std::string ShowControlChars(std::string_view text);

// The prompt shown for `request` (its question line ends without a newline).
// What and why go through ShowControlChars.
std::string ApprovalPrompt(const orchestrator::ApprovalRequest& request);

class LiveInput : public orchestrator::Approver {
 public:
  // True when `fd` is a terminal whose foreground process group is ours.
  static bool ShouldRead(int fd);

  // Starts reading lines from `fd` (not owned); prompts go to `prompt_out`
  // (not owned; the terminal).
  LiveInput(int fd, std::FILE* prompt_out, std::function<void(const std::string&)> on_note);
  ~LiveInput() override;  // stops the reader
  LiveInput(const LiveInput&) = delete;
  LiveInput& operator=(const LiveInput&) = delete;

  // Shows the prompt and waits for the next typed line. kUnavailable when
  // the terminal closes or Cancel() is called while waiting.
  Result<orchestrator::ApprovalAnswer> Ask(const orchestrator::ApprovalRequest& request) override;

  // Ends a waiting Ask (Ctrl-C).
  void Cancel();

 private:
  void Read();
  void Line(std::string line);

  int fd_;
  std::FILE* prompt_out_;
  std::function<void(const std::string&)> on_note_;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool prompt_open_ = false;           // guarded by mu_
  std::optional<std::string> answer_;  // guarded by mu_
  bool closed_ = false;                // guarded by mu_: EOF on the terminal
  bool cancelled_ = false;             // guarded by mu_
  std::thread reader_;
};

}  // namespace tandem::cli
