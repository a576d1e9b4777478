// tandem mcp serve: tandem as an MCP server on stdio (mcp_serve.h).
// tandem mcp list: every configured MCP server ([mcp_servers.NAME],
// docs/CONFIG.md), whether it starts (and which protocol revision it
// speaks) and the tools it offers the executor, each marked read-only or
// needing approval. Servers are started as `tandem do` starts them (the
// sandbox and environment of commands), then shut down.
#include <fmt/format.h>

#include "tandem/agent/task_runner.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/mcp_serve.h"
#include "tandem/cli/runtime.h"

namespace tandem::cli {
namespace {

int RunMcpList(const std::string& repo_root, const std::vector<std::string>& overrides) {
  auto runtime = LoadRuntime(repo_root, {overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  const auto& servers = rt.loaded.config.mcp_servers;
  if (servers.empty()) {
    fmt::print("no MCP servers configured (see docs/CONFIG.md, [mcp_servers.NAME])\n");
    return kExitSuccess;
  }
  agent::TaskEnv env;
  env.repo_root = repo_root.empty() ? rt.repo_root : repo_root;
  env.config = rt.loaded.config;
  env.job_budget = rt.jobs.get();
  std::shared_ptr<tools::McpTools> mcp = agent::StartMcpServers(env);
  bool all_ok = true;
  for (const auto& [name, server] : servers) {
    std::string state = "disabled";
    for (const auto& s : mcp ? mcp->servers() : std::vector<tools::McpTools::ServerState>{}) {
      if (s.name == name) state = s.state;
    }
    if (state.starts_with("failed")) all_ok = false;
    fmt::print("{}: {}{}\n", name, state, server.network ? " [network]" : "");
    for (const auto& tool : mcp ? mcp->tools() : std::vector<tools::McpTool>{}) {
      if (tool.server != name) continue;
      fmt::print("  {}{}\n", tool.spec.name,
                 tool.read_only ? " (read-only)" : tool.needs_approval ? " (needs approval)" : "");
    }
  }
  if (mcp) mcp->Shutdown();
  return all_ok ? kExitSuccess : kExitTaskFailed;  // a server did not start
}

}  // namespace

CommandRun SetupMcp(CLI::App& app) {
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto list = app.add_subcommand("list", "Show configured MCP servers, their state and tools");
  list->add_option("--set", *overrides, "Override a configuration key (key=value)");
  auto serve = app.add_subcommand(
      "serve", "Serve tandem's tools to an MCP client on stdio (docs/MCP.md)");
  serve->add_option("--set", *overrides, "Override a configuration key (key=value)");
  app.require_subcommand(1);
  return [overrides, serve](const Invocation& in) {
    if (serve->parsed()) return RunMcpServe(in.repo_root, *overrides);
    return RunMcpList(in.repo_root, *overrides);
  };
}

}  // namespace tandem::cli
