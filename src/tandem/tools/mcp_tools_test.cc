#include "tandem/tools/mcp_tools.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "tandem/platform/sandbox.h"
#include "tandem/tools/test_util.h"
#include "tandem/tools/toolbox.h"
#include "tests/mcp/fake_server_under_tmp.h"

namespace tandem::tools {
namespace {

using std::chrono::milliseconds;
using testing::TempDir;

const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);  // as cli::Main does
  return true;
}();

McpServerSetup Fake(const std::string& name, const std::string& mode) {
  McpServerSetup s;
  s.name = name;
  s.argv = {"node", std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js", mode};
  return s;
}

ToolOptions Unsandboxed() {
  ToolOptions o;
  o.sandbox = SandboxMode::kOff;
  return o;
}

protocol::ToolCall Call(const std::string& name, nlohmann::json args) {
  protocol::ToolCall c;
  c.id = "1";
  c.name = name;
  c.arguments = std::move(args);
  return c;
}

struct Box {
  std::shared_ptr<McpTools> mcp;
  ToolBox box;
};

Box Make(const TempDir& dir, std::vector<McpServerSetup> servers, ToolOptions options = Unsandboxed(),
         IrreversibleCommandHook hook = {}) {
  auto mcp = McpTools::Start(dir.path().string(), options, std::move(servers));
  auto box = ToolBox::Create(dir.path(), options, std::move(hook), mcp);
  EXPECT_TRUE(box.has_value());
  return {mcp, std::move(*box)};
}

TEST(McpToolBox, ToolsJoinSortedAfterTheBuiltInsWithByteIdenticalSpecs) {
  TempDir dir;
  Box a = Make(dir, {Fake("zeta", "modern"), Fake("alpha", "legacy")});
  ASSERT_TRUE(a.mcp->notes().empty()) << a.mcp->notes()[0];
  std::vector<std::string> names;
  for (const auto& spec : a.box.Specs()) names.push_back(spec.name);
  std::vector<std::string> expected = {"read_file", "list_files", "search", "edit_file",
                                       "write_file", "run_command", "finish",
                                       "mcp__alpha__delete_all", "mcp__alpha__echo",
                                       "mcp__alpha__touch", "mcp__alpha__write_file",
                                       "mcp__zeta__delete_all", "mcp__zeta__echo",
                                       "mcp__zeta__touch", "mcp__zeta__write_file"};
  EXPECT_EQ(names, expected);
  Box b = Make(dir, {Fake("alpha", "legacy"), Fake("zeta", "modern")});
  EXPECT_EQ(a.box.SpecsJson(), b.box.SpecsJson());  // the prompt prefix stays the same bytes
}

TEST(McpToolBox, AReadOnlyToolChangesNothingAndOthersRunLikeACommand) {
  TempDir dir;
  Box b = Make(dir, {Fake("fake", "modern")});
  EXPECT_FALSE(b.box.Predict(Call("mcp__fake__echo", {{"text", "x"}})).runs_command);
  ToolOutcome echo = b.box.Execute(Call("mcp__fake__echo", {{"text", "hi"}}));
  EXPECT_EQ(echo.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(echo.content, "echo: hi");
  EXPECT_FALSE(echo.ran_command);

  auto write = Call("mcp__fake__write_file", {{"path", "made.txt"}, {"content", "x"}});
  EXPECT_TRUE(b.box.Predict(write).runs_command);  // the whole tree is checkpointed
  ToolOutcome wrote = b.box.Execute(write);
  EXPECT_EQ(wrote.kind, ToolOutcomeKind::kOk) << wrote.content;
  EXPECT_TRUE(wrote.ran_command);  // and re-scanned after
  EXPECT_EQ(testing::ReadFile(dir / "made.txt"), "x");
}

TEST(McpToolBox, AToolWithoutAnnotationsRunsLikeACommandOfUnknownEffectWithoutApproval) {
  TempDir dir;
  int asked = 0;
  Box b = Make(dir, {Fake("fake", "modern")}, Unsandboxed(),
               [&](const std::string&, const std::string&) {
                 ++asked;
                 return CommandDecision{false, "no", 0, 0};
               });
  const McpTool* touch = b.mcp->Find("mcp__fake__touch");
  ASSERT_NE(touch, nullptr);
  EXPECT_FALSE(touch->read_only);
  EXPECT_FALSE(touch->needs_approval);  // only an explicit destructiveHint asks
  auto call = Call("mcp__fake__touch", {{"path", "t.txt"}});
  ToolEffects predicted = b.box.Predict(call);
  EXPECT_TRUE(predicted.runs_command);  // checkpoint the whole tree before it
  ToolOutcome out = b.box.Execute(call);
  EXPECT_EQ(out.kind, ToolOutcomeKind::kOk) << out.content;
  EXPECT_TRUE(out.ran_command);  // re-scan the tree after it
  EXPECT_TRUE(std::filesystem::exists(dir / "t.txt"));
  EXPECT_EQ(asked, 0);
}

TEST(McpToolBox, ADestructiveToolIsRefusedWithoutAHookAndDecidedByOne) {
  TempDir dir;
  Box refused = Make(dir, {Fake("fake", "modern")});
  ToolOutcome r = refused.box.Execute(Call("mcp__fake__delete_all", nlohmann::json::object()));
  EXPECT_EQ(r.kind, ToolOutcomeKind::kRefused);
  EXPECT_NE(r.content.find("needs the user's approval"), std::string::npos) << r.content;

  std::vector<std::string> asked;
  bool approve = false;
  Box decided = Make(dir, {Fake("fake", "modern")}, Unsandboxed(),
                     [&](const std::string& what, const std::string&) {
                       asked.push_back(what);
                       return CommandDecision{approve, approve ? "" : "the user said no", 0.01, 5};
                     });
  ToolOutcome no = decided.box.Execute(Call("mcp__fake__delete_all", nlohmann::json::object()));
  EXPECT_EQ(no.kind, ToolOutcomeKind::kRefused);
  EXPECT_NE(no.content.find("the user said no"), std::string::npos);
  approve = true;
  ToolOutcome yes = decided.box.Execute(Call("mcp__fake__delete_all", nlohmann::json::object()));
  EXPECT_EQ(yes.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(yes.content, "nothing deleted");
  EXPECT_DOUBLE_EQ(yes.review_cost_usd, 0.01);
  EXPECT_EQ(asked, (std::vector<std::string>{"mcp__fake__delete_all {}", "mcp__fake__delete_all {}"}));
  // A read-only tool of the same server needs no decision.
  EXPECT_EQ(decided.box.Execute(Call("mcp__fake__echo", {{"text", "a"}})).kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(asked.size(), 2u);
}

TEST(McpToolBox, EveryCallOfAServerAllowedTheNetworkNeedsApproval) {
  TempDir dir;
  McpServerSetup net = Fake("net", "modern");
  net.network = true;
  Box b = Make(dir, {net});
  EXPECT_EQ(b.box.Execute(Call("mcp__net__echo", {{"text", "a"}})).kind, ToolOutcomeKind::kRefused);
}

TEST(McpToolBox, EnabledAndDisabledToolsFilterWhatIsOffered) {
  TempDir dir;
  McpServerSetup s = Fake("fake", "modern");
  s.enabled_tools = {"echo", "write_file"};
  s.disabled_tools = {"write_file"};
  Box b = Make(dir, {s});
  ASSERT_EQ(b.mcp->tools().size(), 1u);
  EXPECT_EQ(b.mcp->tools()[0].spec.name, "mcp__fake__echo");
}

TEST(McpToolBox, ResultsAreRedactedAndCappedBeforeAnyoneSeesThem) {
  TempDir dir;
  Box b = Make(dir, {Fake("fake", "modern")});
  ToolOutcome secret =
      b.box.Execute(Call("mcp__fake__echo", {{"text", "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"}}));
  EXPECT_EQ(secret.content.find("sk-ant-api03"), std::string::npos) << secret.content;
  EXPECT_NE(secret.content.find("[REDACTED]"), std::string::npos) << secret.content;
  ToolOutcome big = b.box.Execute(Call("mcp__fake__echo", {{"text", std::string(300000, 'a') + "END"}}));
  EXPECT_LE(big.content.size(), kMaxMcpResultBytes + 100);
  EXPECT_NE(big.content.find("bytes of the tool's result omitted"), std::string::npos);
  EXPECT_TRUE(big.content.ends_with("END"));
}

TEST(McpToolBox, ACrashedServerIsRestartedOnceThenStaysDown) {
  TempDir dir;
  Box b = Make(dir, {Fake("crashy", "crash-on-call")});
  auto call = Call("mcp__crashy__echo", {{"text", "a"}});
  ToolOutcome first = b.box.Execute(call);
  EXPECT_EQ(first.kind, ToolOutcomeKind::kError);
  EXPECT_NE(first.content.find("MCP server 'crashy' exited with code 3"), std::string::npos)
      << first.content;
  ToolOutcome second = b.box.Execute(call);  // restarted, crashes again
  EXPECT_NE(second.content.find("exited with code 3"), std::string::npos) << second.content;
  ToolOutcome third = b.box.Execute(call);
  EXPECT_NE(third.content.find("is not running"), std::string::npos) << third.content;
}

TEST(McpToolBox, AServerThatDoesNotStartIsLeftOutWithANoteAndTheRestWorks) {
  TempDir dir;
  McpServerSetup ghost;
  ghost.name = "ghost";
  ghost.argv = {"no-such-mcp-server-anywhere"};
  Box b = Make(dir, {ghost, Fake("fake", "modern")});
  ASSERT_EQ(b.mcp->notes().size(), 1u);
  EXPECT_NE(b.mcp->notes()[0].find("MCP server 'ghost' left out"), std::string::npos);
  EXPECT_EQ(b.mcp->tools().size(), 4u);  // the fake server's four valid tools
  EXPECT_EQ(b.box.Execute(Call("mcp__fake__echo", {{"text", "a"}})).kind, ToolOutcomeKind::kOk);
}

TEST(McpToolBox, AServerInTheSandboxCannotWriteOutsideTheWorkspace) {
  if (!platform::ProbeSandbox().available) GTEST_SKIP() << platform::ProbeSandbox().reason;
  TempDir outer;
  std::filesystem::create_directories(outer / "ws");
  ToolOptions sandboxed;
  sandboxed.sandbox = SandboxMode::kRequire;
  auto mcp = McpTools::Start((outer / "ws").string(), sandboxed, {Fake("fake", "modern")});
  ASSERT_TRUE(mcp->notes().empty()) << mcp->notes()[0];
  auto box = ToolBox::Create(outer / "ws", sandboxed, {}, mcp);
  ASSERT_TRUE(box.has_value());
  ToolOutcome inside = box->Execute(Call("mcp__fake__write_file", {{"path", "in.txt"}, {"content", "x"}}));
  EXPECT_EQ(inside.kind, ToolOutcomeKind::kOk) << inside.content;
  EXPECT_TRUE(std::filesystem::exists(outer / "ws" / "in.txt"));
  // Outside the workspace the sandbox is read-only or private (/tmp): the
  // write fails or lands nowhere real.
  ToolOutcome outside =
      box->Execute(Call("mcp__fake__write_file", {{"path", "../out.txt"}, {"content", "x"}}));
  EXPECT_FALSE(std::filesystem::exists(outer / "out.txt")) << outside.content;
}

// A server's script where the sandbox keeps a private /tmp (as with a clone
// of tandem under /tmp) is still the server its user configured: it starts.
TEST(McpToolBox, AServerWhoseScriptIsUnderTmpStartsInTheSandbox) {
  if (!platform::ProbeSandbox().available) GTEST_SKIP() << platform::ProbeSandbox().reason;
  test::FakeServerUnderTmp copy;
  ASSERT_FALSE(copy.script().empty());
  const std::filesystem::path& script = copy.script();
  McpServerSetup server = Fake("fake", "modern");
  server.argv[1] = script.string();
  TempDir ws;
  ToolOptions sandboxed;
  sandboxed.sandbox = SandboxMode::kRequire;
  auto mcp = McpTools::Start(ws.path().string(), sandboxed, {server});
  EXPECT_TRUE(mcp->notes().empty()) << mcp->notes()[0];
  auto box = ToolBox::Create(ws.path(), sandboxed, {}, mcp);
  ASSERT_TRUE(box.has_value());
  ToolOutcome echo = box->Execute(Call("mcp__fake__echo", {{"text", "from /tmp"}}));
  EXPECT_EQ(echo.content, "echo: from /tmp");
  mcp->Shutdown();
}

}  // namespace
}  // namespace tandem::tools
