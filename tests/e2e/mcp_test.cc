// MCP tools in `tandem do`, end to end: the real binary, the scripted model
// calling mcp__<server>__<tool>, and MCP servers as real subprocesses
// (tests/mcp/fake_server.js, one fault per mode) under tandem's guardrails.
#include <signal.h>
#include <sys/inotify.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/mcp_fixture.h"
#include "tests/mcp/fake_server_under_tmp.h"
#include "tandem/platform/sandbox.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class McpTest : public E2eTest {
 protected:
  std::vector<std::string> Outcomes(const TandemRun& run) {
    std::vector<std::string> out;
    for (const auto& e : run.Events("tool_finished")) out.push_back(e.value("outcome", ""));
    return out;
  }
};

TEST_F(McpTest, AReadOnlyToolsResultReachesTheModelAndTheToolsAreOffered) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__fake__echo", {{"text", "hello"}})}), Finish(1)}),
              FakeServer("fake", "modern"));
  TandemRun run = Do("use the echo tool");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Outcomes(run).front(), "ok");
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("echo: hello"), std::string::npos) << results[0];
  // Offered after the built-in tools, the same bytes in every request.
  auto requests = Requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0]["body"]["tools"], requests[1]["body"]["tools"]);
  EXPECT_NE(requests[0]["body"]["tools"].dump().find("mcp__fake__echo"), std::string::npos);
  EXPECT_EQ(Git("status --porcelain"), "");
}

TEST_F(McpTest, AToolThatWritesOutsideTheScopeIsRolledBack) {
  WriteFile("src/a.txt", "a\n");
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__fake__write_file", {{"path", "README.md"}, {"content", "hacked\n"}})}),
                      Finish(1)}),
              FakeServer("fake", "modern"));
  TandemRun run = Do("write with the MCP tool", {"--scope", "src/*"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto rolled = run.Events("step_rolled_back");
  ASSERT_EQ(rolled.size(), 1u) << run.Describe();
  EXPECT_NE(rolled[0].value("reason", "").find("outside the task's scope"), std::string::npos)
      << rolled[0].dump();
  EXPECT_EQ(ReadFile("README.md"), "# sample\n");
}

TEST_F(McpTest, ADestructiveToolIsRefusedInDoWithoutApproval) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__fake__delete_all", json::object())}), Finish(1)}),
              FakeServer("fake", "modern"));
  TandemRun run = Do("delete everything");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Outcomes(run).front(), "refused");
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("needs the user's approval"), std::string::npos) << results[0];
}

TEST_F(McpTest, AServerThatCrashesMidCallIsAToolErrorNamingItAndTheRunGoesOn) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__crashy__echo", {{"text", "x"}})}), Finish(1)}),
              FakeServer("crashy", "crash-on-call"));
  TandemRun run = Do("call the crashing server");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Outcomes(run).front(), "error");
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("MCP server 'crashy' exited with code 3"), std::string::npos) << results[0];
}

TEST_F(McpTest, AServerThatNeverAnswersTimesOutAndTheRunGoesOn) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__slow__echo", {{"text", "x"}})}), Finish(1)}),
              FakeServer("slow", "hang-on-call", "call_timeout_ms = 500\n"));
  TandemRun run = Do("call the hanging server");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("MCP server 'slow' did not answer tools/call within 500 ms (cancellation sent)"),
            std::string::npos)
      << results[0];
}

TEST_F(McpTest, CtrlCDuringAnMcpCallCancelsItAtTheServerAndRollsTheStepBack) {
  MakePassingRepo();
  const std::string log = OutsidePath("calls.log");
  // The hanging server writes partial.txt, records the call and never
  // answers; unsandboxed so that it can write its log outside the workspace.
  StartServer(Script({Turn(0, {Call("mcp__slow__write_file", {{"path", "partial.txt"}, {"content", "half\n"}})}),
                      Finish(1)}),
              "\n[sandbox]\nmode = \"none\"\n[mcp_servers.slow]\ncommand = \"node\"\nargs = [\"" +
                  std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js\", \"hang-on-call\", \"" +
                  log + "\"]\n");
  TandemProcess process = SpawnTandem({"do", "--json", "write slowly"});
  ASSERT_TRUE(WaitForInotify(std::filesystem::path(log).parent_path().string(),
                             IN_CLOSE_WRITE | IN_MODIFY,
                             [&] { return Slurp(log).find("\"called\"") != std::string::npos; },
                             std::chrono::seconds(30)));
  ASSERT_TRUE(Exists("partial.txt"));  // the call's effect, before the interrupt
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);
  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "interrupted");
  EXPECT_FALSE(Exists("partial.txt"));  // the step was rolled back
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs"), "interrupted");
  // The server was told (MCP notifications/cancelled) before it was shut down.
  EXPECT_NE(Slurp(log).find("cancelled by the user"), std::string::npos) << Slurp(log);
}

TEST_F(McpTest, AServerThatPrintsGarbageIsNamedAndTheRunGoesOn) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__noisy__echo", {{"text", "x"}})}), Finish(1)}),
              FakeServer("noisy", "garbage-on-call"));
  TandemRun run = Do("call the noisy server");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("MCP server 'noisy' sent malformed JSON-RPC"), std::string::npos)
      << results[0];
}

TEST_F(McpTest, ALegacyAndAModernServerServeTheSameRun) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__new__echo", {{"text", "a"}}), Call("mcp__old__echo", {{"text", "b"}})}),
                      Finish(1)}),
              FakeServer("new", "modern") + FakeServer("old", "legacy"));
  TandemRun run = Do("call both");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 2u) << run.Describe();
  EXPECT_NE(results[0].find("echo: a"), std::string::npos) << results[0];
  EXPECT_NE(results[1].find("echo: b"), std::string::npos) << results[1];
  std::string tools = Requests()[0]["body"]["tools"].dump();
  EXPECT_NE(tools.find("[2026-07-28]"), std::string::npos);  // the modern one saw _meta
  EXPECT_NE(tools.find("[none]"), std::string::npos);        // the legacy one did not
}

TEST_F(McpTest, AServerThatDoesNotStartIsANoticeAndTheRunGoesOnWithoutIt) {
  MakePassingRepo();
  StartServer(Script({Finish(0)}), "\n[mcp_servers.ghost]\ncommand = \"no-such-mcp-server\"\n");
  TandemRun run = Do("nothing");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(run.HasNotice("MCP server 'ghost' left out")) << run.Describe();
}

TEST_F(McpTest, McpListShowsServersStatesAndTools) {
  MakePassingRepo();
  StartServer(Script({Finish(0)}), FakeServer("fake", "legacy") +
                                       "\n[mcp_servers.off]\ncommand = \"x\"\nenabled = false\n");
  TandemRun run = RunTandem({"mcp", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("fake: running (2025-11-25)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  mcp__fake__echo (read-only)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  mcp__fake__delete_all (needs approval)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("off: disabled"), std::string::npos) << run.out;
}

// The MCP tests failed from a clone of tandem under /tmp: the sandbox's
// private /tmp hid tests/mcp/fake_server.js. A user's server there is the
// same case: its program and script are shown to it, read-only.
TEST_F(McpTest, AServerWhoseScriptIsUnderTmpRunsInTheSandbox) {
  if (!platform::ProbeSandbox().available) GTEST_SKIP() << platform::ProbeSandbox().reason;
  test::FakeServerUnderTmp copy;
  ASSERT_FALSE(copy.script().empty());
  const std::filesystem::path& script = copy.script();
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("mcp__fake__echo", {{"text", "under tmp"}})}), Finish(1)}),
              "\n[mcp_servers.fake]\ncommand = \"node\"\nargs = [\"" + script.string() +
                  "\", \"modern\"]\n");
  TandemRun run = Do("use the echo tool");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(run.HasNotice("MCP server 'fake' left out")) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("echo: under tmp"), std::string::npos) << results[0];
}

}  // namespace
}  // namespace tandem::e2e
