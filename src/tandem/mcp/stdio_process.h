// StdioProcess: a long-lived child spoken to over pipes, one line at a time
// (MCP's stdio transport). stdin and stdout carry the protocol; stderr is
// free-form log, kept (head and tail, 4 KB) for error messages.
//
// The child runs in its own session and process group, registered with the
// orphan guard (platform/orphan_guard.h), so it dies with tandem. Shutdown
// follows MCP: close stdin, wait, SIGTERM the group, wait, SIGKILL; the
// destructor does it when the caller did not.
//
// REQUIRES: SIGPIPE ignored in the process (cli::Main does), so a write to
// a child that died is an error value and not a signal.
//
// Thread-safety: one thread at a time per StdioProcess (the MCP Client holds
// a mutex around it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

#include "tandem/base/status.h"
#include "tandem/mcp/jsonrpc.h"
#include "tandem/platform/head_tail_buffer.h"
#include "tandem/platform/process.h"

namespace tandem::mcp {

class StdioProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts spec.argv (argv[0] looked up on the env's PATH) in spec.cwd with
  // spec.env (inherit_env honoured); spec.timeout/output_limit/cancel are
  // not used. kNotFound when the program or cwd does not exist, kIo else.
  static Result<std::unique_ptr<StdioProcess>> Start(const platform::ProcessSpec& spec,
                                                     size_t max_line_bytes = kMaxLineBytes);
  ~StdioProcess();
  StdioProcess(const StdioProcess&) = delete;
  StdioProcess& operator=(const StdioProcess&) = delete;

  // Writes `line` and a '\n', reading the child's output meanwhile (so a
  // child that writes while we write cannot deadlock us). kDeadlineExceeded,
  // kCancelled, kUnavailable when the child closed stdin or exited.
  Status WriteLine(const std::string& line, Clock::time_point deadline, std::stop_token cancel);

  // The next line from stdout. kDeadlineExceeded, kCancelled; kUnavailable
  // when stdout ended (the child exited or closed it); kInvalidArgument for
  // a line past the bound (the stream is then unusable).
  Result<std::string> ReadLine(Clock::time_point deadline, std::stop_token cancel);

  // Closes stdin, waits up to `grace` for the exit, then SIGTERM to the
  // group, `grace` again, then SIGKILL; reaps. Idempotent.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

  // Waits up to `limit` for the child to exit; true when it has.
  bool WaitForExit(std::chrono::milliseconds limit);
  // True once the child has exited (reaps it without waiting).
  bool Exited();
  // "exited with code 3", "killed by signal 9", or "running".
  std::string ExitDescription();
  // Reads what stderr still has for up to `limit` (until it closes).
  void DrainStderr(std::chrono::milliseconds limit);
  // The last stderr bytes (head and tail of at most 4 KB), raw.
  std::string StderrTail() const { return stderr_.Take(); }
  pid_t pid() const { return pid_; }

 private:
  StdioProcess(pid_t pid, int in_fd, int out_fd, int err_fd, size_t max_line_bytes);
  // Polls the pipes once for up to `wait`; reads what is there. `want_write`
  // adds stdin. Returns poll's revents for stdin (0 when not asked).
  short PollOnce(std::chrono::milliseconds wait, bool want_write);
  void CloseFd(int* fd);

  pid_t pid_;
  int in_fd_, out_fd_, err_fd_, pidfd_;
  bool out_eof_ = false;
  bool reaped_ = false;
  int wait_status_ = 0;
  LineReader reader_;
  platform::HeadTailBuffer stderr_{4096};
};

}  // namespace tandem::mcp
