// Server: the serving side of MCP's stdio transport (newline-delimited
// JSON-RPC 2.0), for `tandem mcp serve`. It answers both protocol
// revisions: 2026-07-28 (`server/discover`; every request carries its
// protocol version in `_meta`, checked per request) and 2025-11-25
// (`initialize` / `notifications/initialized`, then the session's version).
// A request naming a version it does not speak gets -32022 with the
// supported list in the error's data; one that names none before an
// `initialize` gets the same.
//
// Tools: `tools/list` returns the options' tools (with the 2026-07-28 cache
// hints when asked in that revision); `tools/call` runs the handler on a
// thread of its own, so a long call does not stop the server from reading:
// `notifications/cancelled` with the call's request id stops the call's
// stop_token (and no response is sent for it, as MCP asks; once the
// handler returns, a `notifications/message` log line with the request id
// and "cancelled": true says its work has stopped), and other calls
// (a status query, an approval) are served meanwhile. A handler reports
// progress through CallContext::Progress, sent as `notifications/progress`
// when the request carried a `progressToken`. An unknown tool is error
// -32602; arguments that are not an object are an `isError: true` result,
// and so must be the handler's own validation failures (MCP: the caller can
// then correct itself).
//
// Everything read is untrusted: malformed lines get a parse error reply
// (-32700, id null) and are otherwise skipped; a line longer than
// kMaxLineBytes ends the session (the stream cannot be resynchronized).
// Serve returns when its input ends; it first stops every running call
// and waits for it.
//
// Thread-safety: Serve runs on one thread; handlers run on their own
// threads and may call CallContext's methods from any thread while their
// call lasts. Output lines are written whole under a mutex.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/base/mutex.h"
#include "tandem/base/status.h"
#include "tandem/mcp/jsonrpc.h"

namespace tandem::mcp {

// The revisions the server speaks, newest first.
inline constexpr const char* kServedRevisions[] = {"2026-07-28", "2025-11-25"};

struct ServedTool {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object
  nlohmann::json annotations;   // MCP tool annotations (readOnlyHint, ...); null: none
};

struct ToolReply {
  bool is_error = false;
  std::string text;           // the content, one text part
  nlohmann::json structured;  // structuredContent; null: none
};

// What a handler gets besides the arguments. Valid for the call's duration.
class CallContext {
 public:
  // Set once the client cancels the call or the input ends.
  std::stop_token cancel() const { return cancel_; }
  // Sends notifications/progress (progress counts up from 1) with `message`,
  // or nothing when the request carried no progressToken or the call is cancelled.
  void Progress(const std::string& message);

 private:
  friend class Server;
  CallContext(class Server* server, nlohmann::json token, std::stop_token cancel)
      : server_(server), token_(std::move(token)), cancel_(std::move(cancel)) {}
  class Server* server_;
  nlohmann::json token_;
  std::stop_token cancel_;
  std::atomic<int64_t> progress_{0};
};

class Server {
 public:
  using Handler = std::function<ToolReply(const std::string& tool, const nlohmann::json& arguments,
                                          CallContext& context)>;
  struct Options {
    std::string name = "tandem";
    std::string version;
    std::string instructions;  // returned by server/discover and initialize
    std::vector<ServedTool> tools;
    Handler handler;
    size_t max_line_bytes = kMaxLineBytes;
  };

  // Reads requests from `in_fd` and writes responses to `out_fd` (neither
  // owned; blocking descriptors).
  Server(Options options, int in_fd, int out_fd);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until the input ends (Ok) or breaks (kIo, kInvalidArgument for an
  // over-long line); running calls are stopped and joined before it returns.
  Status Serve();

  // Stops every running call (their stop_tokens). Any thread.
  void CancelAll();
  // CancelAll, then Serve returns (after joining the calls) without waiting
  // for the input to end: SIGTERM / Ctrl-C. Any thread.
  void Stop();

 private:
  friend class CallContext;
  struct Running {
    std::stop_source stop;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> cancelled_by_client{false};  // no response is sent
  };

  void Handle(const Message& message);
  void HandleRequest(const Message& message);
  // Whether `params` may proceed: the 2026-07-28 `_meta` version is served, or
  // the session initialized. Replies with -32022 itself when not.
  bool CheckVersion(const Message& message, std::string* revision);
  void CallTool(const Message& message, const std::string& revision);
  nlohmann::json Tag(nlohmann::json result, const std::string& revision, bool cacheable) const;
  void Write(const std::string& line);
  void Reap(bool all);

  Options options_;
  int in_fd_;
  int out_fd_;
  int wake_[2] = {-1, -1};  // Stop() writes a byte; Serve polls it with the input
  std::atomic<bool> stopping_{false};
  Mutex write_mu_;
  bool write_failed_ GUARDED_BY(write_mu_) = false;
  std::string session_revision_;  // set by initialize (2025-11-25); Serve's thread only
  Mutex calls_mu_;
  // Running tools/call requests by their id's JSON text.
  std::map<std::string, std::unique_ptr<Running>> calls_ GUARDED_BY(calls_mu_);
};

}  // namespace tandem::mcp
