// McpTools: the tools of the configured MCP servers (mcp/client.h) as rows
// of the agent's toolbox, named mcp__<server>__<tool>.
//
// Start launches every server like a command: confined by the sandbox when
// the command sandbox is on (the workspace writable, no network unless the
// server is allowed it), with the child environment of commands plus the
// variables its configuration names. A server that fails to start, or whose
// tools cannot be listed, is left out with a note naming it (the run goes
// on without its tools). Tools are filtered by enabled/disabled lists and
// sorted by name, so the specs are the same bytes every step.
//
// Call runs one tool: a server that crashed is restarted once per run; the
// result is redacted (base/redact.h) and capped (kMaxResultBytes, head and
// tail) before anyone sees it; failures (timeout, crash, garbage) are
// kError outcomes naming the server.
//
// Thread-safety: Call may run from many threads; calls to one server are
// serialized by its client.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/base/mutex.h"
#include "tandem/mcp/client.h"
#include "tandem/protocol/model.h"
#include "tandem/tools/tool.h"

namespace tandem::tools {

// ~25,000 tokens at 4 bytes a token.
inline constexpr size_t kMaxMcpResultBytes = 100 * 1024;

struct McpServerSetup {
  std::string name;
  std::vector<std::string> argv;  // command and args
  std::vector<std::string> env;   // variable names passed from tandem's environment
  std::string cwd;                // relative to the workspace; empty: its root
  std::vector<std::string> enabled_tools;  // empty: all
  std::vector<std::string> disabled_tools;
  std::chrono::milliseconds start_timeout{10000};
  std::chrono::milliseconds call_timeout{60000};
  bool network = false;
};

struct McpTool {
  protocol::ToolSpec spec;  // spec.name = mcp__<server>__<tool> ('.' in the tool's name as '_')
  std::string server;
  std::string tool;         // the server's own name for it
  bool read_only = false;   // annotated read-only: the workspace is not re-scanned after it
  bool needs_approval = false;  // annotated destructive, or its server may reach the network
};

class McpTools {
 public:
  // Starts every server now. `workspace` is absolute; `options` gives the
  // sandbox and the child environment of commands.
  static std::shared_ptr<McpTools> Start(const std::string& workspace, const ToolOptions& options,
                                         std::vector<McpServerSetup> servers,
                                         std::stop_token cancel = {});
  ~McpTools();

  const std::vector<McpTool>& tools() const { return tools_; }
  // One line per server left out or tool dropped, naming it and why.
  const std::vector<std::string>& notes() const { return notes_; }
  // The tool named `name`, or nullptr.
  const McpTool* Find(const std::string& name) const;

  // Calls `tool` (one of tools()) with `arguments`.
  ToolOutcome Call(const McpTool& tool, const nlohmann::json& arguments, std::stop_token cancel);

  // Shuts every server down (also done by the destructor).
  void Shutdown();

  // What `tandem mcp list` shows: each server's state.
  struct ServerState {
    std::string name;
    std::string state;  // "running (2026-07-28)", "failed: ...", "disabled"
  };
  const std::vector<ServerState>& servers() const { return states_; }

 private:
  struct Server {
    McpServerSetup setup;
    mcp::ClientOptions options;
    std::shared_ptr<mcp::Client> client GUARDED_BY(mu);  // replaced on a restart
    bool restarted GUARDED_BY(mu) = false;
    Mutex mu;
  };
  McpTools() = default;
  void AddServer(const std::string& workspace, const ToolOptions& options, McpServerSetup setup,
                 std::stop_token cancel);

  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<McpTool> tools_;
  std::vector<std::string> notes_;
  std::vector<ServerState> states_;
};

}  // namespace tandem::tools
