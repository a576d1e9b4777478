// Shared by the MCP scenarios (mcp_test.cc, mcp_serve_test.cc).
#pragma once

#include <string>

namespace tandem::e2e {

// A `[mcp_servers.NAME]` table that starts tests/mcp/fake_server.js in
// `mode`, followed by `extra` (more keys of the same table).
inline std::string FakeServer(const std::string& name, const std::string& mode,
                              const std::string& extra = "") {
  return "\n[mcp_servers." + name + "]\ncommand = \"node\"\nargs = [\"" +
         std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js\", \"" + mode + "\"]\n" +
         extra;
}

}  // namespace tandem::e2e
