// The client against MCP servers nobody on this project wrote: the official
// @modelcontextprotocol/server-everything and server-filesystem (npm, pinned
// by scripts/mcp-servers, which scripts/test runs). When they are missing
// these tests fail and say how to install them; they never skip.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tandem/mcp/test_sigpipe.h"

#include "tandem/mcp/client.h"

namespace tandem::mcp {
namespace {

using std::chrono::milliseconds;

// The server's entry point, or "" after a test failure naming the fix.
std::string OfficialServer(const std::string& package) {
  std::string path = std::string(TANDEM_BINARY_DIR) + "/mcp-node/node_modules/@modelcontextprotocol/" +
                     package + "/dist/index.js";
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << path << " is missing: run scripts/mcp-servers (scripts/test does) to install "
                  << "the official MCP servers from npm";
    return "";
  }
  return path;
}

bool HasTool(const std::vector<ToolInfo>& tools, const std::string& name) {
  for (const auto& t : tools) {
    if (t.name == name) return true;
  }
  return false;
}

TEST(OfficialServers, EverythingServerNegotiatesListsAndCallsEcho) {
  std::string entry = OfficialServer("server-everything");
  if (entry.empty()) return;
  ClientOptions o;
  o.name = "everything";
  o.spec.argv = {"node", entry, "stdio"};
  auto client = Client::Connect(std::move(o));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  // This release answers server/discover with "method not found": 2025-11-25.
  EXPECT_EQ((*client)->revision(), Revision::k2025_11_25);
  auto tools = (*client)->ListTools();
  ASSERT_TRUE(tools.has_value()) << tools.error().message();
  ASSERT_TRUE(HasTool(*tools, "echo"));
  auto echo = (*client)->CallTool("echo", {{"message", "hello from tandem"}});
  ASSERT_TRUE(echo.has_value()) << echo.error().message();
  EXPECT_FALSE(echo->is_error) << echo->text;
  EXPECT_NE(echo->text.find("hello from tandem"), std::string::npos) << echo->text;
  // Invalid input comes back as a tool error the model can read.
  auto bad = (*client)->CallTool("echo", {{"message", 5}});
  ASSERT_TRUE(bad.has_value()) << bad.error().message();
  EXPECT_TRUE(bad->is_error) << bad->text;
}

TEST(OfficialServers, FilesystemServerReadsInsideItsDirectoryAndRefusesOutside) {
  std::string entry = OfficialServer("server-filesystem");
  if (entry.empty()) return;
  std::string tmpl = (std::filesystem::temp_directory_path() / "tandem_mcp_fs_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  std::filesystem::path dir = std::filesystem::canonical(tmpl);
  std::filesystem::create_directories(dir / "allowed");
  std::ofstream(dir / "allowed" / "a.txt") << "inside\n";
  std::ofstream(dir / "secret.txt") << "outside\n";
  ClientOptions o;
  o.name = "fs";
  o.spec.argv = {"node", entry, (dir / "allowed").string()};
  auto client = Client::Connect(std::move(o));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto tools = (*client)->ListTools();
  ASSERT_TRUE(tools.has_value()) << tools.error().message();
  ASSERT_TRUE(HasTool(*tools, "read_text_file"));
  for (const auto& t : *tools) {
    if (t.name == "read_text_file") {
      EXPECT_TRUE(t.read_only);
    }
  }
  auto inside = (*client)->CallTool("read_text_file", {{"path", (dir / "allowed" / "a.txt").string()}});
  ASSERT_TRUE(inside.has_value()) << inside.error().message();
  EXPECT_NE(inside->text.find("inside"), std::string::npos) << inside->text;
  auto outside = (*client)->CallTool("read_text_file", {{"path", (dir / "secret.txt").string()}});
  ASSERT_TRUE(outside.has_value()) << outside.error().message();
  EXPECT_TRUE(outside->is_error) << outside->text;
  EXPECT_EQ(outside->text.find("outside\n"), std::string::npos);
  (*client)->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::mcp
