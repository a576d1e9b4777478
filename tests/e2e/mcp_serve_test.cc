// `tandem mcp serve` driven by a client nobody on this project wrote: the
// official MCP TypeScript SDK (@modelcontextprotocol/sdk, pinned, installed
// by scripts/mcp-servers into build/mcp-node) in tests/mcp/sdk_client.js,
// against the real binary and the scripted model server. When the SDK is
// missing these tests fail and name the script; they never skip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tandem/platform/process.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/mcp_fixture.h"
#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

const char kRightEdit[] = "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'";
const char kTagCommand[] = "git tag -f approved-tag";

class McpServeTest : public E2eTest {
 protected:
  // Runs one scenario of sdk_client.js; nullopt after a test failure naming
  // the fix when node or the SDK is missing.
  std::optional<TandemRun> Sdk(const std::string& scenario) {
    const std::string modules = std::string(TANDEM_BINARY_DIR) + "/mcp-node/node_modules";
    if (!std::filesystem::exists(modules + "/@modelcontextprotocol/sdk/package.json")) {
      ADD_FAILURE() << modules << "/@modelcontextprotocol/sdk is missing: run scripts/mcp-servers "
                    << "(scripts/test does) to install the official MCP SDK from npm";
      return std::nullopt;
    }
    const char* path = std::getenv("PATH");
    std::string node = platform::FindExecutable("node", path ? path : "/usr/bin:/bin");
    if (node.empty()) {
      ADD_FAILURE() << "node is not on PATH: run scripts/mcp-servers (it installs Node.js)";
      return std::nullopt;
    }
    return RunProgram({node, std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/sdk_client.js",
                       std::string(TANDEM_BINARY_DIR) + "/tandem", root(), scenario},
                      {{"NODE_PATH", modules}});
  }

  static json One(const TandemRun& run, const std::string& type) {
    auto events = run.Events(type);
    EXPECT_EQ(events.size(), 1u) << type << "\n" << run.Describe();
    return events.empty() ? json::object() : events[0];
  }
};

TEST_F(McpServeTest, TheSdkClientListsToolsRunsADoToAVerifiedOutcomeAndUndoesIt) {
  MakeSlugifyRepo();
  const std::string original = ReadFile("slugify.sh");
  StartServer(Script({
      Turn(0, {Call("read_file", {{"path", "slugify.sh"}})}),
      Turn(1, {Call("edit_file",
                    {{"path", "slugify.sh"}, {"old_text", "tr ' ' '-'"}, {"new_text", kRightEdit}})}),
      Finish(2, "slugify lowercases now"),
  }));
  auto run = Sdk("do");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  // Negotiated with initialize (the SDK's newest revision is 2025-11-25).
  EXPECT_EQ(One(*run, "connected").value("protocol", ""), "2025-11-25");

  json tools = One(*run, "tools");
  EXPECT_EQ(tools["names"], json::array({"tandem_do", "tandem_status", "tandem_plan", "tandem_run",
                                         "tandem_approve", "tandem_deny", "tandem_pick",
                                         "tandem_undo"}));
  EXPECT_EQ(tools["annotations"]["tandem_status"]["readOnlyHint"], true);

  json done = One(*run, "do");
  EXPECT_FALSE(done.value("isError", true)) << done.dump();
  const json& result = done["structured"];
  EXPECT_EQ(result.value("outcome", ""), "succeeded") << done.dump();
  EXPECT_EQ(result.value("summary", ""), "slugify lowercases now");
  ASSERT_EQ(result["diff"]["files"].size(), 1u) << done.dump();
  EXPECT_EQ(result["diff"]["files"][0]["path"], "slugify.sh");
  EXPECT_EQ(result["diff"]["lines_added"], 1);
  EXPECT_EQ(result["diff"]["lines_removed"], 1);
  EXPECT_EQ(result["gates"], json::array({{{"gate", "test"}, {"verdict", "pass"}}}));
  bool gate_progress = false;
  for (const auto& p : done["progress"]) gate_progress |= p.get<std::string>() == "gate test: pass";
  EXPECT_TRUE(gate_progress) << done["progress"].dump();
  EXPECT_NE(done.value("text", "").find("1 file(s) changed, +1 -1"), std::string::npos) << done.dump();

  json status = One(*run, "status");
  EXPECT_FALSE(status.value("isError", true)) << status.dump();
  EXPECT_EQ(status["structured"].value("schema", ""), "tandem.status/1");

  json undo = One(*run, "undo");
  EXPECT_FALSE(undo.value("isError", true)) << undo.dump();
  EXPECT_NE(undo.value("text", "").find("undid run " + result.value("run_id", "?")), std::string::npos)
      << undo.dump();
  EXPECT_EQ(ReadFile("slugify.sh"), original);

  json invalid = One(*run, "invalid");
  EXPECT_TRUE(invalid.value("isError", false)) << invalid.dump();
  EXPECT_NE(invalid.value("text", "").find("argument 'task' must be a string"), std::string::npos)
      << invalid.dump();
  // The server's log went to stderr, never into the protocol.
  EXPECT_NE(run->err.find("tandem mcp serve: serving"), std::string::npos) << run->err;
}

TEST_F(McpServeTest, TheSdkClientCancelsALongDoAndItsStepIsRolledBack) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  auto run = Sdk("cancel");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  EXPECT_FALSE(One(*run, "aborted").value("answered", true));  // no response to a cancelled call
  json log = One(*run, "cancel_log");
  EXPECT_EQ(log["data"]["cancelled"], true);
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");  // the finished step stays
  EXPECT_FALSE(Exists("partial.txt"));         // the step in progress was rolled back
  EXPECT_FALSE(Exists("started.marker"));
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE kind = 'do'"), "interrupted");
  EXPECT_EQ(LedgerValue("SELECT state FROM steps WHERE n = 2"), "interrupted");
}

TEST_F(McpServeTest, TheSdkClientApprovesACommandAndADestructiveMcpToolById) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("run_command", {{"command", kTagCommand}})}),
                      Turn(1, {Call("mcp__fake__delete_all", json::object())}),
                      Finish(2, "tagged")}),
              FakeServer("fake", "modern"));
  auto run = Sdk("approve");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();

  json waiting = One(*run, "status_while_waiting");
  ASSERT_EQ(waiting["structured"]["mcp_approvals"].size(), 1u) << waiting.dump();
  const json& first = waiting["structured"]["mcp_approvals"][0];
  EXPECT_EQ(first["id"], "approval-1");
  EXPECT_EQ(first["what"], kTagCommand);

  json unknown = One(*run, "approve_unknown");
  EXPECT_TRUE(unknown.value("isError", false));
  EXPECT_NE(unknown.value("text", "").find("no approval 'approval-999' is waiting"), std::string::npos)
      << unknown.dump();

  auto approved = run->Events("approve");
  ASSERT_EQ(approved.size(), 2u) << run->Describe();
  EXPECT_EQ(approved[0]["id"], "approval-1");
  EXPECT_EQ(approved[1]["id"], "approval-2");
  for (const auto& a : approved) EXPECT_FALSE(a.value("isError", true)) << a.dump();

  json done = One(*run, "do");
  EXPECT_EQ(done["structured"].value("outcome", ""), "succeeded") << done.dump();
  EXPECT_FALSE(Git("tag -l approved-tag").empty());  // the approved command ran
  std::string progress = done["progress"].dump();
  EXPECT_NE(progress.find("approval approval-2 needed: mcp__fake__delete_all"), std::string::npos)
      << progress;
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results.back().find("nothing deleted"), std::string::npos) << results.back();  // it ran
  // Each decision is an approvals row of the do run, as tandem run's are.
  const std::string run_id = done["structured"].value("run_id", "?");
  EXPECT_EQ(LedgerValue("SELECT group_concat(what || ' ' || decision || ' ' || decided_by, ', ') "
                        "FROM approvals WHERE run_id = '" + run_id + "' ORDER BY id"),
            std::string(kTagCommand) + " approved person, mcp__fake__delete_all {} approved person");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM approvals WHERE step_id IS NOT NULL"), "2");
  EXPECT_EQ(LedgerValue("SELECT reason FROM approvals ORDER BY id LIMIT 1"), "looks right");
}

TEST_F(McpServeTest, ApprovalPolicyDecidesADosCommandWithoutAskingTheClientAndTheLedgerRecordsIt) {
  MakePassingRepo();
  StartServer(Script({Turn(0, {Call("run_command", {{"command", kTagCommand}})}),
                      Finish(1, "tagged")}),
              "\n[approval]\npolicy = \"deny\"\n");
  auto run = Sdk("approve");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  EXPECT_TRUE(run->Events("approve").empty()) << run->Describe();  // nothing was asked
  json done = One(*run, "do");
  EXPECT_EQ(done["structured"].value("outcome", ""), "succeeded") << done.dump();
  EXPECT_EQ(done["progress"].dump().find("needed"), std::string::npos) << done["progress"].dump();
  EXPECT_TRUE(Git("tag -l approved-tag").empty());  // refused
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results.back().find("approval.policy = deny"), std::string::npos) << results.back();
  EXPECT_EQ(LedgerValue("SELECT what || ' ' || decision || ' ' || decided_by || ' ' || reason "
                        "FROM approvals"),
            std::string(kTagCommand) + " denied policy approval.policy = deny");
}

// An approved command runs outside the sandbox, where the step's inotify
// watch cannot see a write through a hard link whose other name lies outside
// the workspace: the step rescans, so the change is in the run's checkpoint
// and diff (and undo can take it back).
TEST_F(McpServeTest, AnApprovedCommandsWriteThroughAHardLinkFromOutsideIsInTheDosDiff) {
  MakePassingRepo();
  const std::string outside = OutsidePath("tracked-link.txt");
  ASSERT_EQ(::link((root() + "/tracked.txt").c_str(), outside.c_str()), 0) << outside;
  const std::string command = std::string(kTagCommand) + " && echo changed >> " + outside;
  StartServer(Script({Turn(0, {Call("run_command", {{"command", command}})}), Finish(1, "tagged")}),
              "\n[approval]\npolicy = \"approve\"\n");
  auto run = Sdk("approve");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  json done = One(*run, "do");
  ASSERT_EQ(done["structured"].value("outcome", ""), "succeeded") << done.dump();
  EXPECT_FALSE(Git("tag -l approved-tag").empty());  // approved by policy, and it ran
  EXPECT_EQ(ReadFile("tracked.txt"), "keep me\nchanged\n");
  ASSERT_EQ(done["structured"]["diff"]["files"].size(), 1u) << done.dump();
  EXPECT_EQ(done["structured"]["diff"]["files"][0]["path"], "tracked.txt");
  EXPECT_EQ(done["structured"]["diff"]["lines_added"], 1);
}

TEST_F(McpServeTest, TheSdkClientFansADoOutGetsTheRankedVariantsAndPicksTheTopOne) {
  MakePassingRepo();
  auto writes = [](const std::string& model, const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<json> calls;
    for (const auto& [path, content] : files) {
      calls.push_back(Call("write_file", {{"path", path}, {"content", content}}));
    }
    std::vector<json> turns = {Turn(0, calls), Finish(1, "done by " + model)};
    for (json& t : turns) t["when"]["model"] = model;
    return turns;
  };
  std::vector<json> turns = writes("m-small", {{"out.txt", "ok\n"}});
  for (json& t : writes("m-large", {{"out.txt", "ok\n"}, {"big.txt", "1\n2\n3\n4\n5\n6\n"}})) {
    turns.push_back(t);
  }
  std::string models;
  for (const char* id : {"m-small", "m-large"}) {
    models += std::string("\n[models.") + id + "]\nprovider = \"local\"\nid = \"" + id + "\"\n";
  }
  StartServer(Script(turns), models);
  auto run = Sdk("fanout");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();

  json fanout = One(*run, "fanout");
  EXPECT_FALSE(fanout.value("isError", true)) << fanout.dump();
  const json& result = fanout["structured"];
  EXPECT_EQ(result.value("outcome", ""), "succeeded") << fanout.dump();
  EXPECT_EQ(result.value("summary", ""), "2 of 2 variants passed");
  const json& variants = result["fanout"]["variants"];
  ASSERT_EQ(variants.size(), 2u) << fanout.dump();
  EXPECT_EQ(variants[0]["rank"], 1);
  EXPECT_EQ(variants[0]["model"], "m-small");  // the smaller diff ranks first
  EXPECT_EQ(variants[1]["rank"], 2);
  EXPECT_EQ(variants[1]["files"], 2);
  EXPECT_EQ(result["fanout"]["run"], result["run_id"]);
  const std::string run_id = result.value("run_id", "?");
  EXPECT_NE(fanout.value("text", "").find("tandem_pick with variant \"" + run_id + "/1\""),
            std::string::npos)
      << fanout.dump();
  bool variant_progress = false;
  for (const auto& p : fanout["progress"]) {
    variant_progress |= p.get<std::string>().rfind("v2: task started", 0) == 0;
  }
  EXPECT_TRUE(variant_progress) << fanout["progress"].dump();
  // The fan-out did not touch the checkout; the pick applies exactly v1.
  json pick = One(*run, "pick");
  EXPECT_FALSE(pick.value("isError", true)) << pick.dump();
  EXPECT_EQ(pick["structured"]["applied"], true);
  EXPECT_EQ(pick["structured"]["rank"], 1);
  EXPECT_EQ(pick["structured"]["paths"], json::array({"out.txt"}));
  EXPECT_EQ(ReadFile("out.txt"), "ok\n");
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(LedgerValue("SELECT run_id || ' ' || variant || ' ' || applied FROM picks"),
            run_id + " 1 1");
  json again = One(*run, "pick_again");
  EXPECT_TRUE(again.value("isError", false)) << again.dump();
  EXPECT_NE(again.value("text", "").find("v9"), std::string::npos) << again.dump();
}

TEST_F(McpServeTest, TheSdkClientRunsAPlanAndApprovesItsIrreversibleTaskById) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: ship it\n\n" +
                           TaskBlock("T1", "Deploy", "Write deployed.txt [deploy]",
                                     "  - accept: gates all; check `test -f deployed.txt`\n"
                                     "  - risk: irreversible\n") +
                           TaskBlock("T2", "Docs", "Write docs.txt [docs]"));
  CommitAll("plan");
  std::vector<json> turns = WriteThenFinish("[deploy]", "deployed.txt", "v1\n");
  for (auto& t : WriteThenFinish("[docs]", "docs.txt", "docs\n")) turns.push_back(t);
  StartServer(Script(turns));
  auto run = Sdk("run");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();

  auto approved = run->Events("approve");
  ASSERT_EQ(approved.size(), 1u) << run->Describe();
  EXPECT_EQ(approved[0]["id"], "approval-1");
  EXPECT_FALSE(approved[0].value("isError", true)) << approved[0].dump();
  json done = One(*run, "run");
  EXPECT_FALSE(done.value("isError", true)) << done.dump();
  EXPECT_EQ(done["structured"]["exit_code"], 0);
  EXPECT_NE(done["progress"].dump().find("approval approval-1 needed for task T1"), std::string::npos)
      << done["progress"].dump();
  EXPECT_EQ(ReadFile("deployed.txt"), "v1\n");
  EXPECT_EQ(ReadFile("docs.txt"), "docs\n");
  std::string plan = ReadFile("plan.md");
  EXPECT_NE(plan.find("- [x] T1: Deploy"), std::string::npos) << plan;
  EXPECT_NE(plan.find("- [x] T2: Docs"), std::string::npos) << plan;
  EXPECT_EQ(LedgerValue("SELECT task_id || ' ' || decision || ' ' || decided_by || ' ' || reason "
                        "FROM approvals"),
            "T1 approved person ship it");
}

// The cancel comes while tandem_run still loads its configuration, before
// its kInterrupt handler is on the call's queue; it must still stop the run.
TEST_F(McpServeTest, ACancelWhileTandemRunStillLoadsStopsTheRun) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: docs\n\n" + TaskBlock("T1", "Docs", "Write docs.txt [docs]"));
  CommitAll("plan");
  StartServer(Script(WriteThenFinish("[docs]", "docs.txt", "docs\n")));
  auto run = Sdk("run_cancel");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  EXPECT_FALSE(One(*run, "aborted").value("answered", true));
  EXPECT_EQ(One(*run, "cancel_log")["data"]["cancelled"], true);
  EXPECT_FALSE(Exists("docs.txt"));
  EXPECT_NE(ReadFile("plan.md").find("- [ ] T1: Docs"), std::string::npos) << ReadFile("plan.md");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE kind = 'run'"), "interrupted");
}

TEST_F(McpServeTest, The2026RevisionIsServedOverTheSdksTransport) {
  MakePassingRepo();
  StartServer(Script({Finish(0)}));
  auto run = Sdk("modern");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->Describe();
  json discover = One(*run, "discover")["reply"]["result"];
  EXPECT_EQ(discover["supportedVersions"], json::array({"2026-07-28", "2025-11-25"}));
  EXPECT_EQ(discover["resultType"], "complete");
  json list = One(*run, "list")["reply"]["result"];
  EXPECT_EQ(list["tools"].size(), 8u);
  EXPECT_TRUE(list.contains("ttlMs"));
  EXPECT_EQ(list["cacheScope"], "private");
  json call = One(*run, "call")["reply"]["result"];
  EXPECT_EQ(call["resultType"], "complete");
  EXPECT_EQ(call["isError"], false) << call.dump();
  EXPECT_EQ(call["structuredContent"]["schema"], "tandem.status/1");
  json refused = One(*run, "unsupported")["reply"]["error"];
  EXPECT_EQ(refused["code"], -32022);
  EXPECT_EQ(refused["data"]["supported"], json::array({"2026-07-28", "2025-11-25"}));
}

}  // namespace
}  // namespace tandem::e2e
