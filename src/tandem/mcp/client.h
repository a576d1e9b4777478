// Client: one connection to one MCP server over stdio (the model-context
// protocol, revisions 2026-07-28 and 2025-11-25).
//
// Connect starts the server and negotiates: it probes `server/discover`
// (2026-07-28: every request then carries the protocol version and the
// client's capabilities in `_meta`) and falls back to `initialize` +
// `notifications/initialized` (2025-11-25) on any JSON-RPC error, on a
// discover result that does not list 2026-07-28, or on no reply within half
// the start timeout. Then ListTools and CallTool.
//
// Every error names the server: "MCP server 'fs': ...". A server that
// exits, hangs past a timeout (the request is then cancelled with
// `notifications/cancelled`) or writes something that is not JSON-RPC
// (a line past 16 MiB, invalid UTF-8, non-JSON) gives an error value; after
// an exit or garbage the client is dead (alive() false) and every later
// call fails at once. Requests the server sends are answered (`ping`) or
// refused (method not found); its notifications are ignored.
//
// Thread-safety: all methods may be called from any thread; calls to one
// server are serialized (one request in flight).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/base/status.h"
#include "tandem/base/mutex.h"
#include "tandem/mcp/stdio_process.h"
#include "tandem/platform/process.h"

namespace tandem::mcp {

enum class Revision { k2025_11_25, k2026_07_28 };
const char* RevisionName(Revision r);  // "2025-11-25"

struct ClientOptions {
  std::string name;           // the server's name in the configuration
  platform::ProcessSpec spec; // argv, env, cwd of the (already confined) server
  std::chrono::milliseconds start_timeout{10000};
  std::chrono::milliseconds call_timeout{60000};
  size_t max_line_bytes = kMaxLineBytes;
};

struct ToolInfo {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object
  bool read_only = false;       // annotations.readOnlyHint
  bool destructive = false;     // annotated destructiveHint: true (and not read-only)
};

struct CallResult {
  bool is_error = false;  // the tool failed (isError); the text says why
  std::string text;       // the content as text (non-text parts summarized)
};

// True for 1-128 characters of [A-Za-z0-9_.-].
bool IsValidToolName(std::string_view name);

class Client {
 public:
  // Starts and negotiates. Errors name the server (see the file comment).
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options, std::stop_token cancel = {});
  ~Client();

  Revision revision() const { return revision_; }
  const std::string& name() const { return options_.name; }
  // False once the server exited, sent garbage or was shut down.
  bool alive() const;

  // All tools (following `nextCursor`); tools with invalid names are left
  // out. kInvalidArgument for a malformed result.
  Result<std::vector<ToolInfo>> ListTools(std::stop_token cancel = {});

  // Calls `tool` with `arguments` (an object) within the call timeout.
  Result<CallResult> CallTool(const std::string& tool, const nlohmann::json& arguments,
                              std::stop_token cancel = {});

  // Closes stdin, then SIGTERM, then SIGKILL (StdioProcess::Shutdown).
  void Shutdown();

 private:
  Client(ClientOptions options, std::unique_ptr<StdioProcess> process);
  Status Negotiate(std::stop_token cancel);
  // One request and its response's result.
  Result<nlohmann::json> Request(const std::string& method, nlohmann::json params,
                                 std::chrono::milliseconds timeout, std::stop_token cancel)
      REQUIRES(mu_);
  Status Notify(const std::string& method, nlohmann::json params) REQUIRES(mu_);
  Status Fail(const std::string& what) REQUIRES(mu_);  // marks dead, names the server

  ClientOptions options_;
  Revision revision_ = Revision::k2026_07_28;
  mutable Mutex mu_;
  std::unique_ptr<StdioProcess> process_ GUARDED_BY(mu_);
  bool dead_ GUARDED_BY(mu_) = false;
  std::string dead_reason_ GUARDED_BY(mu_);
  int64_t next_id_ GUARDED_BY(mu_) = 1;
};

}  // namespace tandem::mcp
