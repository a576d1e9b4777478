// RunProcess: run one child process to completion with a timeout, a cancel
// token and a cap on the output it may hand back.
//
// The child runs in its own process group (so a timeout or cancel reaches
// every process it started) with stdin = /dev/null and stdout+stderr merged
// into one pipe, read with poll(2). When the direct child exits, any process
// it left behind in its group is killed: nothing keeps running (and writing
// into the workspace) after RunProcess returns. The group is registered with
// the orphan guard (orphan_guard.h) while it runs, so it is killed too when
// tandem itself dies (kill -9, a crash) before RunProcess returns.
//
// Thread-safety: RunProcess may be called from many threads at once; every
// descriptor it opens is O_CLOEXEC so concurrent spawns do not leak pipes
// into each other's children.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::platform {

struct ProcessSpec {
  std::vector<std::string> argv;           // argv[0] looked up in PATH (spec.env's PATH if set)
  std::string cwd;                         // empty = current directory
  std::map<std::string, std::string> env;  // added to / overriding the inherited environment
  bool inherit_env = true;                 // false: the child gets exactly `env`
  // 0 = no timeout; on expiry the whole process group gets SIGTERM, then
  // SIGKILL after 2 s.
  std::chrono::milliseconds timeout{0};
  // stdout+stderr are merged; when larger, keep the first and last
  // output_limit/2 bytes joined by "\n[... N bytes omitted ...]\n".
  size_t output_limit = 64 * 1024;
  // Polled; once stop is requested, the process group is killed and
  // result.cancelled = true.
  std::stop_token cancel;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string output;      // merged stdout+stderr, capped as above (raw bytes, maybe not UTF-8)
  size_t output_bytes = 0; // total bytes produced before capping
  double duration_ms = 0;
  bool ok() const { return exit_code == 0 && !timed_out && !cancelled; }
};

// Runs the process to completion. Returns an error Status only when the
// process could not be started at all: kInvalidArgument for an empty argv,
// kNotFound when argv[0] is not an executable file on PATH, kNotFound when
// cwd does not exist, kIo for other operating-system failures.
Result<ProcessResult> RunProcess(const ProcessSpec& spec);

// Finds an executable named `name` on `path_var` (colon-separated). A name
// containing '/' is returned as is when it is executable. Empty when none.
std::string FindExecutable(const std::string& name, const std::string& path_var);

}  // namespace tandem::platform
