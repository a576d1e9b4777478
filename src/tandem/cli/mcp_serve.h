// tandem mcp serve: tandem as an MCP server on stdio (docs/MCP.md), so
// Claude Code, Codex or any MCP client can hand it a bounded task. Tools:
// tandem_do, tandem_status, tandem_plan, tandem_run, tandem_approve,
// tandem_deny, tandem_pick, tandem_undo. Each calls the body the matching subcommand
// runs (do_run.h, plan_run.h, command_bodies.h), with a CommandIo of its
// own: its text is captured for the result, its events become progress
// notifications, `notifications/cancelled` interrupts it as Ctrl-C would,
// and an approval it needs waits for tandem_approve / tandem_deny by id.
//
// stdout carries only the protocol: the descriptor is kept for it and fd 1
// becomes stderr, so nothing else the process (or a child) prints can
// reach the client; stdin is kept for the protocol likewise and fd 0
// becomes /dev/null.
#pragma once

#include <string>
#include <vector>

namespace tandem::cli {

// Serves until the client closes stdin (exit 0) or SIGINT/SIGTERM/SIGHUP
// stops it (exit 130); either way running calls are interrupted first and
// their steps rolled back.
int RunMcpServe(const std::string& repo_root, const std::vector<std::string>& overrides);

}  // namespace tandem::cli
