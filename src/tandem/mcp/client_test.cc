#include "tandem/mcp/client.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/mcp/test_sigpipe.h"

namespace tandem::mcp {
namespace {

using std::chrono::milliseconds;

ClientOptions Fake(const std::string& name, const std::string& mode, const std::string& log = "") {
  ClientOptions o;
  o.name = name;
  o.spec.argv = {"node", std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js", mode};
  if (!log.empty()) o.spec.argv.push_back(log);
  o.start_timeout = milliseconds(10000);
  o.call_timeout = milliseconds(10000);
  return o;
}

std::vector<std::string> Names(const std::vector<ToolInfo>& tools) {
  std::vector<std::string> out;
  for (const auto& t : tools) out.push_back(t.name);
  return out;
}

TEST(McpClient, SpeaksTheNewRevisionToAServerThatAnswersDiscover) {
  auto client = Client::Connect(Fake("modern", "modern"));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  EXPECT_EQ((*client)->revision(), Revision::k2026_07_28);
  auto tools = (*client)->ListTools();
  ASSERT_TRUE(tools.has_value()) << tools.error().message();
  // Sorted, the invalid name left out, every request carrying the version.
  EXPECT_EQ(Names(*tools),
            (std::vector<std::string>{"delete_all", "echo", "touch", "write_file"}));
  EXPECT_NE((*tools)[1].description.find("[2026-07-28]"), std::string::npos);
  EXPECT_TRUE((*tools)[1].read_only);
  EXPECT_TRUE((*tools)[0].destructive);
  // No annotations: neither read-only nor annotated destructive.
  EXPECT_FALSE((*tools)[2].read_only);
  EXPECT_FALSE((*tools)[2].destructive);
  EXPECT_FALSE((*tools)[3].destructive);
  auto echo = (*client)->CallTool("echo", {{"text", "hi"}});
  ASSERT_TRUE(echo.has_value()) << echo.error().message();
  EXPECT_FALSE(echo->is_error);
  EXPECT_EQ(echo->text, "echo: hi");
}

TEST(McpClient, FallsBackToInitializeWhenDiscoverIsRefused) {
  auto client = Client::Connect(Fake("old", "legacy"));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  EXPECT_EQ((*client)->revision(), Revision::k2025_11_25);
  auto tools = (*client)->ListTools();
  ASSERT_TRUE(tools.has_value()) << tools.error().message();
  EXPECT_NE((*tools)[1].description.find("[none]"), std::string::npos);  // no _meta in 2025-11-25
}

TEST(McpClient, FallsBackToInitializeWhenDiscoverGetsNoReply) {
  ClientOptions o = Fake("quiet", "silent-discover");
  o.start_timeout = milliseconds(2000);
  auto client = Client::Connect(std::move(o));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  EXPECT_EQ((*client)->revision(), Revision::k2025_11_25);
}

TEST(McpClient, ToolErrorsComeBackAsResultsTheModelCanRead) {
  auto client = Client::Connect(Fake("modern", "modern"));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto bad = (*client)->CallTool("echo", {{"text", 5}});
  ASSERT_TRUE(bad.has_value()) << bad.error().message();
  EXPECT_TRUE(bad->is_error);
  EXPECT_EQ(bad->text, "text must be a string");
}

TEST(McpClient, AServerThatCrashesMidCallIsNamedWithItsExitAndStderr) {
  auto client = Client::Connect(Fake("crashy", "crash-on-call"));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto call = (*client)->CallTool("echo", {{"text", "hi"}});
  ASSERT_FALSE(call.has_value());
  const std::string& m = call.error().message();
  EXPECT_NE(m.find("MCP server 'crashy'"), std::string::npos) << m;
  EXPECT_NE(m.find("exited with code 3"), std::string::npos) << m;
  EXPECT_NE(m.find("crashing on purpose"), std::string::npos) << m;
  EXPECT_FALSE((*client)->alive());
  auto again = (*client)->ListTools();
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("not running"), std::string::npos);
}

TEST(McpClient, AHungCallTimesOutAndTheServerIsToldToCancel) {
  std::string log = (std::filesystem::temp_directory_path() /
                     ("mcp-cancel-" + std::to_string(::getpid()) + ".log")).string();
  std::filesystem::remove(log);
  ClientOptions o = Fake("hangs", "hang-on-call", log);
  o.call_timeout = milliseconds(300);
  auto client = Client::Connect(std::move(o));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto call = (*client)->CallTool("echo", {{"text", "hi"}});
  ASSERT_FALSE(call.has_value());
  EXPECT_EQ(call.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(call.error().message().find("MCP server 'hangs' did not answer tools/call"),
            std::string::npos)
      << call.error().message();
  // The server handles its input in order: once it answered tools/list, it
  // has read the cancellation.
  ASSERT_TRUE((*client)->ListTools().has_value());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"requestId\":2"), std::string::npos) << text.str();
  std::filesystem::remove(log);
}

TEST(McpClient, GarbageOnStdoutIsMalformedJsonRpcNamingTheServer) {
  auto client = Client::Connect(Fake("noisy", "garbage-on-call"));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto call = (*client)->CallTool("echo", {{"text", "hi"}});
  ASSERT_FALSE(call.has_value());
  EXPECT_NE(call.error().message().find("MCP server 'noisy' sent malformed JSON-RPC"),
            std::string::npos)
      << call.error().message();
  EXPECT_FALSE((*client)->alive());
}

TEST(McpClient, ALineLongerThanTheBoundIsAnErrorNotACrash) {
  ClientOptions o = Fake("big", "modern");
  o.max_line_bytes = 200;  // tools/list's reply is longer
  auto client = Client::Connect(std::move(o));
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto tools = (*client)->ListTools();
  ASSERT_FALSE(tools.has_value());
  EXPECT_NE(tools.error().message().find("longer than 200 bytes"), std::string::npos)
      << tools.error().message();
}

TEST(McpClient, AServerThatNeverAnswersFailsToStartInTime) {
  ClientOptions o = Fake("mute", "never-starts");
  o.start_timeout = milliseconds(400);
  auto client = Client::Connect(std::move(o));
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(client.error().message().find("MCP server 'mute' did not answer initialize"),
            std::string::npos)
      << client.error().message();
}

TEST(McpClient, AMissingProgramIsNamed) {
  ClientOptions o;
  o.name = "ghost";
  o.spec.argv = {"no-such-mcp-server-anywhere"};
  auto client = Client::Connect(std::move(o));
  ASSERT_FALSE(client.has_value());
  EXPECT_NE(client.error().message().find("MCP server 'ghost' did not start"), std::string::npos);
}

TEST(McpClient, AMissingWorkingDirectoryIsNamedAsRunProcessNamesIt) {
  ClientOptions o = Fake("lost", "modern");
  o.spec.cwd = "/no/such/dir/for/tandem";
  auto client = Client::Connect(std::move(o));
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), StatusCode::kNotFound);
  EXPECT_NE(client.error().message().find("working directory does not exist: /no/such/dir/for/tandem"),
            std::string::npos)
      << client.error().message();
}

}  // namespace
}  // namespace tandem::mcp
