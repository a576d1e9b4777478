// Test support: runs the real scripted model server binary as a subprocess.
//
// ModelServerProcess::Start writes the script to a private temp dir, starts
// tandem-model-server on a free port with --record, and waits for its
// `listening 127.0.0.1:PORT` line. The destructor stops it (SIGTERM, then
// SIGKILL if it does not exit within 5 s) and removes the temp dir.
//
// Thread-safety: all methods may be called from any thread once Start returned.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tests/support/temp_dir.h"

namespace tandem::testing {

// Path of the built server binary (under TANDEM_BINARY_DIR).
std::string ModelServerBinary();

struct ModelServerOptions {
  std::string script_json;
  int tokens_per_second = 1200;
  int ttft_ms = 150;
  std::string api_key;
  std::vector<std::string> extra_args;  // e.g. {"--fault", "reset:after_tokens=5"}
};

class ModelServerProcess {
 public:
  // Errors: the binary is missing, or the server exited (e.g. a bad script;
  // the error then carries the server's stderr) or did not print its
  // listening line within 10 s. The server's stderr goes to a file in the
  // private temp dir (stderr_path()).
  static Result<std::unique_ptr<ModelServerProcess>> Start(const ModelServerOptions& options);
  ~ModelServerProcess();

  ModelServerProcess(const ModelServerProcess&) = delete;
  ModelServerProcess& operator=(const ModelServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;  // "http://127.0.0.1:PORT/v1"
  const std::string& record_path() const { return record_path_; }
  std::string stderr_path() const { return dir_.path() + "/server.stderr"; }

  // The recorded requests so far, in order (see the record format in the
  // server contract). Each is recorded before its response starts.
  std::vector<nlohmann::json> Requests() const;

 private:
  ModelServerProcess() = default;

  TempDir dir_;
  std::string record_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // kept open so the server never writes to a closed pipe
  int port_ = 0;
};

}  // namespace tandem::testing
