// `tandem do --variants N`, `tandem variants`, `tandem pick`, `tandem gc`:
// variants run in their own worktrees and never touch the checkout; they
// are deduplicated by tree and ranked (failing never above passing); a pick
// applies exactly the chosen tree as one verified change that undo reverts;
// limits (stop-after, cost budget), 429s, Ctrl-C and kill -9 lose nothing
// and leave nothing gc cannot clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

// Models of the scripted pool: each answers only requests for its own id.
json ForModel(json turn, const std::string& model) {
  turn["when"]["model"] = model;
  return turn;
}

// A model that writes `files` in its first step and then finishes.
std::vector<json> WritesThenFinishes(const std::string& model,
                                     const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<json> calls;
  for (const auto& [path, content] : files) {
    calls.push_back(Call("write_file", {{"path", path}, {"content", content}}));
  }
  return {ForModel(Turn(0, calls), model), ForModel(Finish(1, "done"), model)};
}

std::string ModelsToml(const std::vector<std::string>& ids, double price_output = 0) {
  std::string toml;
  for (const std::string& id : ids) {
    toml += "[models." + id + "]\nprovider = \"local\"\nid = \"" + id + "\"\n";
    if (price_output > 0) toml += "price_output = " + std::to_string(price_output) + "\n";
  }
  return toml;
}

class FanoutTest : public E2eTest {
 protected:
  // check.sh fails when out.txt says BAD, or when need.txt exists without
  // have.txt.
  void MakeRepo() {
    WriteFile("README.md", "# sample\n");
    WriteFile("check.sh",
              "#!/bin/sh\n"
              "if grep -q BAD out.txt 2>/dev/null; then echo 'out.txt says BAD'; exit 1; fi\n"
              "if [ -e need.txt ] && [ ! -e have.txt ]; then echo 'need.txt without have.txt';"
              " exit 1; fi\n"
              "echo ok\n");
    WriteVerifyMd({{"check", "sh check.sh"}});
    CommitAll();
  }

  std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), "do");
    return args;
  }

  json VariantsJson() {
    TandemRun listed = RunTandem({"variants", "--json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.Describe();
    return json::parse(listed.out, nullptr, false);
  }

  static const json& ById(const json& variants, int n) {
    for (const json& v : variants["variants"]) {
      if (v["n"] == n) return v;
    }
    static const json none;
    return none;
  }

  // Tandem's worktrees under the git directory (the fan-out's slots).
  std::vector<std::string> TandemWorktrees() {
    std::vector<std::string> ids;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(root() + "/.git/tandem/worktrees", ec)) {
      ids.push_back(e.path().filename().string());
    }
    return ids;
  }
};

TEST_F(FanoutTest, VariantsAreRankedDedupedAndAPickAppliesExactlyTheChosenTreeWhichUndoReverts) {
  MakeRepo();
  std::vector<json> turns;
  for (auto& t : WritesThenFinishes("m-small", {{"out.txt", "ok\n"}})) turns.push_back(t);
  std::string big;
  for (int i = 0; i < 30; ++i) big += "line " + std::to_string(i) + "\n";
  for (auto& t : WritesThenFinishes("m-large", {{"out.txt", "ok\n"}, {"big.txt", big}})) {
    turns.push_back(t);
  }
  // Always writes what the gate refuses: rolled back until retries run out.
  turns.push_back(ForModel(
      Turn(kAnyTurn, {Call("write_file", {{"path", "out.txt"}, {"content", "BAD\n"}})}), "m-fail"));
  for (auto& t : WritesThenFinishes("m-twin", {{"out.txt", "ok\n"}})) turns.push_back(t);
  StartServer(Script(turns), "[limits]\nstep_retries = 1\n" +
                                 ModelsToml({"m-small", "m-large", "m-fail", "m-twin"}));

  TandemRun run = RunTandem(Args({"--variants", "4", "-m", "m-small", "-m", "m-large", "-m",
                                  "m-fail", "-m", "m-twin", "--json", "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // run_finished sums the variants' steps (each made at least one).
  EXPECT_GE(run.Finished().value("steps", 0), 4) << run.Finished();
  // The checkout is not changed by the fan-out, and no worktree is left.
  EXPECT_FALSE(Exists("out.txt"));
  EXPECT_FALSE(Exists("big.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
  EXPECT_TRUE(TandemWorktrees().empty());

  json listed = VariantsJson();
  ASSERT_TRUE(listed.is_object()) << listed;
  ASSERT_EQ(listed["variants"].size(), 4u) << listed.dump(2);
  const json& small = ById(listed, 1);
  const json& large = ById(listed, 2);
  const json& fail = ById(listed, 3);
  const json& twin = ById(listed, 4);
  EXPECT_EQ(small["state"], "passed");
  EXPECT_EQ(small["rank"], 1) << listed.dump(2);
  EXPECT_EQ(large["state"], "passed");
  EXPECT_EQ(large["rank"], 2);
  EXPECT_LT(large["score"].get<double>(), small["score"].get<double>());
  EXPECT_EQ(fail["state"], "failed");
  EXPECT_EQ(fail["rank"], 3);  // below every passing variant
  EXPECT_TRUE(fail["score"].is_null());
  // Same tree as v1: one candidate, no rank of its own.
  EXPECT_EQ(twin["tree"], small["tree"]);
  EXPECT_EQ(twin["duplicate_of"], 1);
  EXPECT_TRUE(twin["rank"].is_null());
  EXPECT_NE(small["reasons"].get<std::string>().find("smallest diff"), std::string::npos)
      << small["reasons"];
  EXPECT_NE(small["reasons"].get<std::string>().find("2 variants reached this tree"),
            std::string::npos)
      << small["reasons"];
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants"), "4");
  EXPECT_EQ(LedgerValue("SELECT reasons != '' FROM variants WHERE n = 2"), "1");

  // The table fits 80 columns.
  TandemRun table = RunTandem({"variants"}, {{"COLUMNS", "80"}});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  std::istringstream lines(table.out);
  for (std::string line; std::getline(lines, line);) {
    // Count code points, not bytes ('·' is two bytes).
    size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 80u) << line;
  }
  TandemRun show = RunTandem({"variants", "show", "2"});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  EXPECT_NE(show.out.find("+line 29"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("check: pass"), std::string::npos) << show.out;
  TandemRun show_fail = RunTandem({"variants", "show", "v3"});
  EXPECT_NE(show_fail.out.find("out.txt says BAD"), std::string::npos) << show_fail.out;

  TandemRun pick = RunTandem({"pick", "1"});
  ASSERT_EQ(pick.exit_code, 0) << pick.Describe();
  EXPECT_EQ(ReadFile("out.txt"), "ok\n");
  EXPECT_FALSE(Exists("big.txt"));
  // Exactly the chosen tree: the checkout's tree is v1's.
  std::string checkpoint = LedgerValue("SELECT final_checkpoint FROM runs WHERE kind = 'pick'");
  EXPECT_EQ(Git("rev-parse " + checkpoint + "^{tree}"),
            Git("rev-parse " + small["final_checkpoint"].get<std::string>() + "^{tree}"));
  EXPECT_EQ(LedgerValue("SELECT applied || ' ' || rank || ' ' || variant FROM picks"), "1 1 1");

  TandemRun stats = RunTandem({"stats", "--json", "--all"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json figures = json::parse(stats.out, nullptr, false);
  ASSERT_TRUE(figures.contains("fanout")) << stats.out;
  EXPECT_EQ(figures["fanout"]["fanouts"], 1);
  EXPECT_EQ(figures["fanout"]["variants"], 4);
  EXPECT_EQ(figures["fanout"]["passed"], 3);
  EXPECT_EQ(figures["fanout"]["picks"], 1);
  EXPECT_DOUBLE_EQ(figures["fanout"]["top_pick_rate"].get<double>(), 1.0);

  TandemRun undo = RunTandem({"undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  EXPECT_FALSE(Exists("out.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
}

TEST_F(FanoutTest, APickOfFilesThatBreaksTheGatesIsRefusedWithTheReason) {
  MakeRepo();
  StartServer(Script(WritesThenFinishes("m-pair", {{"need.txt", "n\n"}, {"have.txt", "h\n"}})),
              ModelsToml({"m-pair"}));
  TandemRun run = RunTandem(Args({"--variants", "1", "-m", "m-pair", "--json", "add the pair"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();

  TandemRun pick = RunTandem({"pick", "v1", "--only", "need.txt"});
  EXPECT_EQ(pick.exit_code, 1) << pick.Describe();
  EXPECT_NE(pick.err.find("need.txt without have.txt"), std::string::npos) << pick.err;
  EXPECT_FALSE(Exists("need.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
  EXPECT_EQ(LedgerValue("SELECT applied || ' ' || paths FROM picks"), "0 need.txt");
  EXPECT_NE(LedgerValue("SELECT reason FROM picks").find("need.txt without have.txt"),
            std::string::npos);

  // The whole variant passes.
  TandemRun whole = RunTandem({"pick", "v1"});
  ASSERT_EQ(whole.exit_code, 0) << whole.Describe();
  EXPECT_EQ(ReadFile("need.txt"), "n\n");
  EXPECT_EQ(ReadFile("have.txt"), "h\n");
}

TEST_F(FanoutTest, StopAfterCancelsTheVariantsNotYetDone) {
  MakeRepo();
  StartServer(Script(WritesThenFinishes("m-small", {{"out.txt", "ok\n"}})),
              ModelsToml({"m-small"}));
  TandemRun run = RunTandem(Args({"--variants", "4", "--parallel", "1", "--stop-after", "1",
                                  "-m", "m-small", "--json", "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT group_concat(state, ',') FROM (SELECT state FROM variants ORDER "
                        "BY n)"),
            "passed,cancelled,cancelled,cancelled");
  EXPECT_TRUE(run.HasNotice("--stop-after 1")) << run.Describe();
  // The cancelled ones never called the model.
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(FanoutTest, TheCostBudgetIsOneForTheWholeFanout) {
  MakeRepo();
  // Every reply costs (price_output per million tokens): the first
  // variant's first reply spends the whole budget.
  StartServer(Script(WritesThenFinishes("m-pricey", {{"out.txt", "ok\n"}})),
              "[limits]\nmax_cost_usd = 0.0001\n" + ModelsToml({"m-pricey"}, 1000000));
  TandemRun run = RunTandem(Args({"--variants", "3", "--parallel", "1", "-m", "m-pricey",
                                  "--json", "make out.txt say ok"}));
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_TRUE(run.HasNotice("cost budget")) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'cancelled'"), "3");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE n > 1 AND final_checkpoint IS NOT "
                        "NULL"),
            "0");  // never started
  EXPECT_FALSE(Exists("out.txt"));
  EXPECT_TRUE(TandemWorktrees().empty());
}

TEST_F(FanoutTest, A429StormSlowsVariantsButLosesNone) {
  MakeRepo();
  std::vector<json> turns = WritesThenFinishes("m-small", {{"out.txt", "ok\n"}});
  turns[0]["faults"] = json::array({{{"kind", "http_429"}, {"times", 4}, {"retry_after_ms", 50}}});
  StartServer(Script(turns), "max_retries = 0\n" + ModelsToml({"m-small"}));
  TandemRun run = RunTandem(
      Args({"--variants", "3", "-m", "m-small", "--json", "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'passed'"), "3");
  int rate_limited = 0;
  for (const json& r : Requests()) rate_limited += r.value("status", 0) == 429 ? 1 : 0;
  EXPECT_EQ(rate_limited, 4);
}

TEST_F(FanoutTest, CtrlCMidFanoutStopsEveryVariantAndLeavesTheCheckoutAndNoWorktree) {
  MakeRepo();
  std::vector<json> turns = WritesThenFinishes("m-slow", {{"out.txt", "ok\n"}});
  turns[0]["text"] = "Working on it.";  // streamed before the stall: a model_delta event
  turns[0]["faults"] = json::array({{{"kind", "stall"}, {"times", 0}, {"after_tokens", 1},
                                     {"stall_ms", 30000}}});
  StartServer(Script(turns), ModelsToml({"m-slow"}));
  TandemProcess p = SpawnTandem(
      Args({"--variants", "3", "-m", "m-slow", "--json", "make out.txt say ok"}));
  ASSERT_TRUE(WaitForEvent(p, [](const json& e) { return e.value("type", "") == "model_delta"; }));
  kill(p.pid, SIGINT);
  TandemRun run = WaitTandem(p);
  EXPECT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'interrupted'"), "3");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE kind = 'fanout'"), "interrupted");
  EXPECT_FALSE(Exists("out.txt"));
  EXPECT_EQ(Git("status --porcelain"), "");
  EXPECT_TRUE(TandemWorktrees().empty());
}

TEST_F(FanoutTest, KillNineMidFanoutLeavesNothingGcDoesNotClean) {
  MakeRepo();
  std::vector<json> turns = WritesThenFinishes("m-slow", {{"out.txt", "ok\n"}});
  turns[0]["text"] = "Working on it.";  // streamed before the stall: a model_delta event
  turns[0]["faults"] = json::array({{{"kind", "stall"}, {"times", 0}, {"after_tokens", 1},
                                     {"stall_ms", 30000}}});
  StartServer(Script(turns), ModelsToml({"m-slow"}));
  TandemProcess p = SpawnTandem(
      Args({"--variants", "2", "-m", "m-slow", "--json", "make out.txt say ok"}));
  ASSERT_TRUE(WaitForEvent(p, [](const json& e) { return e.value("type", "") == "model_delta"; }));
  kill(p.pid, SIGKILL);
  TandemRun killed = WaitTandem(p);
  EXPECT_EQ(killed.term_signal, SIGKILL);
  EXPECT_FALSE(TandemWorktrees().empty());  // what the dead process left

  TandemRun gc = RunTandem({"gc"});
  ASSERT_EQ(gc.exit_code, 0) << gc.Describe();
  EXPECT_TRUE(TandemWorktrees().empty()) << gc.out;
  // git itself sees only the main worktree again.
  std::string listed = Git("worktree list --porcelain");
  EXPECT_EQ(listed.find("\nworktree "), std::string::npos) << listed;
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE kind = 'fanout'"), "interrupted");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'running'"), "0");
  EXPECT_EQ(Git("status --porcelain"), "");

  // gc --keep-days 0 forgets the variants' private refs.
  TandemRun forget = RunTandem({"gc", "--keep-days", "0"});
  ASSERT_EQ(forget.exit_code, 0) << forget.Describe();
  EXPECT_EQ(Git("for-each-ref refs/tandem/runs/").find(".v1/"), std::string::npos)
      << Git("for-each-ref refs/tandem/runs/");
}

TEST_F(FanoutTest, ApproachesFromOnePlannerCallGoOnePerVariant) {
  MakeRepo();
  json plan = Turn(kAnyTurn, {}, "1. Write it with printf.\n2. Write it with a heredoc.\n");
  plan["when"]["system_contains"] = "Propose genuinely different approaches";
  std::vector<json> turns = {plan};
  for (auto& t : WritesThenFinishes("m-small", {{"out.txt", "ok\n"}})) turns.push_back(t);
  StartServer(Script(turns), ModelsToml({"m-small"}));
  TandemRun run = RunTandem(Args({"--variants", "3", "--approaches", "-m", "m-small", "--json",
                                  "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT group_concat(approach, '|') FROM (SELECT approach FROM variants "
                        "ORDER BY n)"),
            "Write it with printf.|Write it with a heredoc.|Write it with printf.");
  // One planner call; each variant's first request carries its approach.
  int planner_calls = 0, with_printf = 0, with_heredoc = 0;
  for (const json& r : Requests()) {
    std::string body = r["body"].dump();
    if (body.find("Propose genuinely different approaches") != std::string::npos) {
      ++planner_calls;
      continue;
    }
    if (r["body"]["messages"].size() != 2) continue;  // system + the first user message
    with_printf += body.find("Approach to take") != std::string::npos &&
                   body.find("Write it with printf.") != std::string::npos;
    with_heredoc += body.find("Write it with a heredoc.") != std::string::npos;
  }
  EXPECT_EQ(planner_calls, 1);
  EXPECT_EQ(with_printf, 2);
  EXPECT_EQ(with_heredoc, 1);
}

}  // namespace
}  // namespace tandem::e2e
