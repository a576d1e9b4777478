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

// The planner of --approaches: a priced model of its own.
std::string PlannerToml() {
  return "[models.m-plan]\nprovider = \"local\"\nid = \"m-plan\"\nprice_output = 1000\n";
}

json ApproachesTurn() {
  json plan = Turn(kAnyTurn, {}, "1. Write it with printf.\n2. Write it with a heredoc.\n");
  plan["when"]["system_contains"] = "Propose genuinely different approaches";
  return plan;
}

TEST_F(FanoutTest, ApproachesFromOnePlannerCallGoOnePerVariant) {
  MakeRepo();
  std::vector<json> turns = {ApproachesTurn()};
  for (auto& t : WritesThenFinishes("m-small", {{"out.txt", "ok\n"}})) turns.push_back(t);
  StartServer(Script(turns), ModelsToml({"m-small"}) + PlannerToml());
  TandemRun run = RunTandem(Args({"--variants", "3", "--approaches", "-m", "m-small", "--set",
                                  "roles.planner=m-plan", "--json", "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // The planner's call is a model call of the fan-out's run (role, model,
  // tokens, cost), and its cost is part of the fan-out's spend.
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls m JOIN runs r ON r.id = m.run_id WHERE "
                        "r.kind = 'fanout' AND m.role = 'planner' AND m.model = 'm-plan' AND "
                        "m.tokens_out > 0"),
            "1");
  double planned = std::stod(LedgerValue("SELECT cost_usd FROM model_calls WHERE role = 'planner'"));
  EXPECT_GT(planned, 0);
  double variants = std::stod(LedgerValue("SELECT sum(cost_usd) FROM variants"));
  EXPECT_NEAR(run.Finished()["cost_usd"].get<double>(), planned + variants, 1e-9) << run.Finished();
  json listed = VariantsJson();
  ASSERT_TRUE(listed["approaches"].is_object()) << listed.dump(2);
  EXPECT_EQ(listed["approaches"]["calls"], 1);
  EXPECT_EQ(listed["approaches"]["model"], "m-plan");
  EXPECT_NEAR(listed["approaches"]["cost_usd"].get<double>(), planned, 1e-9);
  EXPECT_NEAR(listed["cost_usd"].get<double>(), planned + variants, 1e-9) << listed.dump(2);
  TandemRun stats = RunTandem({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json report = json::parse(stats.out, nullptr, false);
  bool planner_role = false;
  for (const json& role : report["roles"]) {
    if (role.value("role", "") != "planner") continue;
    planner_role = true;
    EXPECT_EQ(role["calls"], 1) << role;
    EXPECT_NEAR(role["spend_usd"].get<double>(), planned, 1e-9) << role;
  }
  EXPECT_TRUE(planner_role) << report["roles"].dump(2);
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

// The planner's call counts in the fan-out's one budget: a budget smaller
// than it stops the fan-out before any variant starts, and says why.
TEST_F(FanoutTest, ApproachesThatSpendTheBudgetStopTheFanoutBeforeAnyVariantStarts) {
  MakeRepo();
  std::vector<json> turns = {ApproachesTurn()};
  for (auto& t : WritesThenFinishes("m-small", {{"out.txt", "ok\n"}})) turns.push_back(t);
  StartServer(Script(turns), ModelsToml({"m-small"}) + PlannerToml());
  TandemRun run = RunTandem(Args({"--variants", "3", "--approaches", "-m", "m-small", "--set",
                                  "roles.planner=m-plan", "--set", "limits.max_cost_usd=0.000001",
                                  "--json", "make out.txt say ok"}));
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_TRUE(run.HasNotice("no variant started")) << run.Describe();
  EXPECT_TRUE(run.HasNotice("the planner's approaches cost $")) << run.Describe();
  EXPECT_TRUE(run.HasNotice("limits.max_cost_usd = ")) << run.Describe();
  // No executor request was made; every variant is cancelled, never started.
  for (const json& r : Requests()) {
    EXPECT_NE(r["body"].dump().find("Propose genuinely different approaches"), std::string::npos)
        << "a variant started: " << r["body"].dump();
  }
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'cancelled' AND detail LIKE "
                        "'not started: %cost budget%'"),
            "3");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'planner'"), "1");
  EXPECT_EQ(LedgerValue("SELECT outcome FROM runs WHERE kind = 'fanout'"), "failed");
  EXPECT_TRUE(TandemWorktrees().empty());
  EXPECT_EQ(Git("status --porcelain"), "");
}

// ---- The reviewer's tournament (docs/FANOUT.md "Tournament") ----

// The judge: a priced model of its own, the reviewer role (--set).
std::string JudgeToml() {
  return "[models.m-judge]\nprovider = \"local\"\nid = \"m-judge\"\nprice_output = 1000\n";
}

// The judge's turns: it prefers the larger change. The comparison's message
// gives each candidate's size ("## Candidate A: +30/-0 ..."); the largest
// one present wins.
std::vector<json> PrefersTheLargerChange(const std::vector<int>& sizes_largest_first) {
  std::vector<json> turns;
  for (int size : sizes_largest_first) {
    for (const char* side : {"A", "B"}) {
      json turn = ForModel(Turn(kAnyTurn, {Call("compare_verdict",
                                                {{"better", side},
                                                 {"reason", "the larger change (" +
                                                                std::to_string(size) +
                                                                " lines) covers more"}})}),
                           "m-judge");
      turn["when"]["last_message_contains"] =
          std::string("## Candidate ") + side + ": +" + std::to_string(size) + "/";
      turns.push_back(turn);
    }
  }
  return turns;
}

// out.txt with `lines` lines ("ok" first).
std::string Lines(int lines) {
  std::string text = "ok\n";
  for (int i = 1; i < lines; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

TEST_F(FanoutTest, TheReviewersTournamentRanksThePassingVariantsAndItsReasonsAreStored) {
  MakeRepo();
  const std::vector<int> sizes = {1, 5, 10, 30};  // v1..v4; the score prefers v1
  std::vector<json> turns = PrefersTheLargerChange({30, 10, 5});
  std::vector<std::string> models;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string model = "m-" + std::to_string(i + 1);
    models.push_back(model);
    for (auto& t : WritesThenFinishes(model, {{"out.txt", Lines(sizes[i])}})) turns.push_back(t);
  }
  StartServer(Script(turns), ModelsToml(models) + JudgeToml());
  std::vector<std::string> args = {"--variants", "4", "--set", "roles.reviewer=m-judge", "--json"};
  for (const auto& m : models) args.insert(args.end(), {"-m", m});
  args.push_back("make out.txt say ok");
  TandemRun run = RunTandem(Args(args));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();

  json listed = VariantsJson();
  ASSERT_EQ(listed["variants"].size(), 4u) << listed.dump(2);
  // 4 candidates: 3 comparisons, each one reviewer call, every one won by
  // the larger change, with the reviewer's reason.
  const json& comparisons = listed["comparisons"];
  ASSERT_EQ(comparisons.size(), 3u) << listed.dump(2);
  for (const json& c : comparisons) {
    int a = c["a"], b = c["b"], winner = c["winner"];
    EXPECT_EQ(c["decided_by"], "reviewer") << c;
    EXPECT_EQ(c["calls"], 1) << c;
    EXPECT_EQ(c["model"], "m-judge");
    int larger = sizes[a - 1] > sizes[b - 1] ? a : b;
    EXPECT_EQ(winner, larger) << c;
    EXPECT_EQ(c["reason"], "the larger change (" + std::to_string(sizes[larger - 1]) +
                               " lines) covers more")
        << c;
  }
  // v4 (the largest change, the worst score) won every comparison and ranks
  // first: the tournament's order, not the score's.
  const json& v4 = ById(listed, 4);
  EXPECT_EQ(v4["rank"], 1) << listed.dump(2);
  EXPECT_EQ(v4["tournament"]["wins"], 2);
  EXPECT_EQ(v4["tournament"]["losses"], 0);
  double best_score = 0;
  for (const json& v : listed["variants"]) best_score = std::max(best_score, v["score"].get<double>());
  EXPECT_LT(v4["score"].get<double>(), best_score);
  EXPECT_EQ(v4["reasons"].get<std::string>().rfind("tournament: beat ", 0), 0u) << v4["reasons"];
  EXPECT_NE(v4["reasons"].get<std::string>().find("won the final"), std::string::npos);
  // Rank 2: the final's loser; ranks 3 and 4: the first round's losers, by
  // score.
  int final_loser = 0;
  std::vector<int> first_round_losers;
  for (const json& c : comparisons) {
    int loser = c["winner"] == c["a"] ? c["b"].get<int>() : c["a"].get<int>();
    if (c["round"] == 2) {
      final_loser = loser;
    } else {
      first_round_losers.push_back(loser);
    }
  }
  ASSERT_EQ(first_round_losers.size(), 2u);
  EXPECT_EQ(ById(listed, final_loser)["rank"], 2);
  std::sort(first_round_losers.begin(), first_round_losers.end(), [&](int x, int y) {
    return ById(listed, x)["score"].get<double>() > ById(listed, y)["score"].get<double>();
  });
  EXPECT_EQ(ById(listed, first_round_losers[0])["rank"], 3);
  EXPECT_EQ(ById(listed, first_round_losers[1])["rank"], 4);

  // Stored: the comparisons and ranks in the ledger, the reviewer's calls in
  // the run's model calls, its spend in the run's cost.
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM comparisons WHERE decided_by = 'reviewer'"), "3");
  EXPECT_EQ(LedgerValue("SELECT rank FROM variants WHERE n = 4"), "1");
  EXPECT_NE(LedgerValue("SELECT reasons FROM variants WHERE n = 4").find("won the final"),
            std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls m JOIN runs r ON r.id = m.run_id "
                        "WHERE r.kind = 'fanout' AND m.role = 'reviewer' AND m.model = 'm-judge'"),
            "3");
  double judged = std::stod(LedgerValue("SELECT sum(cost_usd) FROM comparisons"));
  EXPECT_GT(judged, 0);
  EXPECT_NEAR(run.Finished()["cost_usd"].get<double>(),
              judged + std::stod(LedgerValue("SELECT sum(cost_usd) FROM variants")), 1e-9)
      << run.Finished();
  // Each comparison saw the task and exactly two candidates.
  int judge_requests = 0;
  for (const json& r : Requests()) {
    std::string body = r["body"].dump();
    if (body.find("compare_verdict") == std::string::npos) continue;
    ++judge_requests;
    EXPECT_NE(body.find("make out.txt say ok"), std::string::npos);
    EXPECT_NE(body.find("## Candidate A: "), std::string::npos);
    EXPECT_NE(body.find("## Candidate B: "), std::string::npos);
    EXPECT_EQ(body.find("## Candidate C"), std::string::npos);
  }
  EXPECT_EQ(judge_requests, 3);

  // `tandem variants` marks wins and losses and fits 80 columns;
  // `variants show` lists the comparisons with their reasons.
  TandemRun table = RunTandem({"variants"}, {{"COLUMNS", "80"}});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_NE(table.out.find("tournament: 3 comparisons by m-judge"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("w-l"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("why v4 ranks first: tournament: beat"), std::string::npos) << table.out;
  std::istringstream lines(table.out);
  for (std::string line; std::getline(lines, line);) {
    size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 80u) << line;
  }
  TandemRun show = RunTandem({"variants", "show", "4"});
  ASSERT_EQ(show.exit_code, 0) << show.Describe();
  EXPECT_NE(show.out.find("tournament: 2 wins, 0 losses"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("round 2: beat v" + std::to_string(final_loser) +
                          " (reviewer m-judge): the larger change (30 lines) covers more"),
            std::string::npos)
      << show.out;
  TandemRun show_loser = RunTandem({"variants", "show", std::to_string(final_loser)});
  EXPECT_NE(show_loser.out.find("round 2: lost to v4"), std::string::npos) << show_loser.out;
}

TEST_F(FanoutTest, AReviewerThatNeverCallsTheToolLeavesTheScoresOrderAndLosesNothing) {
  MakeRepo();
  // The judge answers in prose, every time: each pair is asked twice, then
  // the score decides it.
  std::vector<json> turns = {ForModel(Turn(kAnyTurn, {}, "B is clearly better."), "m-judge")};
  for (int i = 1; i <= 3; ++i) {
    std::string model = "m-" + std::to_string(i);
    for (auto& t : WritesThenFinishes(model, {{"out.txt", Lines(i * 10)}})) turns.push_back(t);
  }
  StartServer(Script(turns), ModelsToml({"m-1", "m-2", "m-3"}) + JudgeToml());
  TandemRun run = RunTandem(Args({"--variants", "3", "--set", "roles.reviewer=m-judge", "-m",
                                  "m-1", "-m", "m-2", "-m", "m-3", "--json", "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  json listed = VariantsJson();
  ASSERT_EQ(listed["comparisons"].size(), 2u) << listed.dump(2);
  for (const json& c : listed["comparisons"]) {
    EXPECT_EQ(c["decided_by"], "score") << c;
    EXPECT_EQ(c["calls"], 2) << c;
    EXPECT_EQ(c["winner"], c["a"]) << c;  // the better seed advances
    EXPECT_NE(c["reason"].get<std::string>().find("no verdict after asking twice"),
              std::string::npos)
        << c;
  }
  // The score's order stands.
  std::vector<std::pair<double, int>> by_score;
  for (const json& v : listed["variants"]) by_score.push_back({-v["score"].get<double>(), v["rank"]});
  std::sort(by_score.begin(), by_score.end());
  for (size_t i = 0; i < by_score.size(); ++i) EXPECT_EQ(by_score[i].second, int(i) + 1);
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "4");
}

TEST_F(FanoutTest, NoTournamentMeansNoReviewerCall) {
  MakeRepo();
  std::vector<json> turns = PrefersTheLargerChange({20});
  for (int i = 1; i <= 2; ++i) {
    std::string model = "m-" + std::to_string(i);
    for (auto& t : WritesThenFinishes(model, {{"out.txt", Lines(i * 10)}})) turns.push_back(t);
  }
  StartServer(Script(turns), ModelsToml({"m-1", "m-2"}) + JudgeToml());
  TandemRun run = RunTandem(Args({"--variants", "2", "--set", "roles.reviewer=m-judge",
                                  "--no-tournament", "-m", "m-1", "-m", "m-2", "--json",
                                  "make out.txt say ok"}));
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM comparisons"), "0");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "0");
  EXPECT_EQ(ById(VariantsJson(), 1)["rank"], 1);  // the smaller change, by score
}

// fanout.tournament (docs/CONFIG.md): a repository's own file may turn the
// tournament off (no comparison, no reviewer call, the score ranks); the
// command line wins over the key for one run, both ways.
TEST_F(FanoutTest, TheTournamentKeyTurnsItOffAndTheCommandLineWinsForOneRun) {
  WriteFile(".tandem/config.toml", "[fanout]\ntournament = false\n");
  MakeRepo();
  std::vector<json> turns = PrefersTheLargerChange({20});
  for (int i = 1; i <= 2; ++i) {
    std::string model = "m-" + std::to_string(i);
    for (auto& t : WritesThenFinishes(model, {{"out.txt", Lines(i * 10)}})) turns.push_back(t);
  }
  StartServer(Script(turns), ModelsToml({"m-1", "m-2"}) + JudgeToml());
  auto fan_out = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--variants", "2", "--set", "roles.reviewer=m-judge",
                                     "-m", "m-1", "-m", "m-2", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("make out.txt say ok");
    return RunTandem(Args(args));
  };
  auto comparisons = [&](const TandemRun& run) {
    return LedgerValue("SELECT count(*) FROM comparisons WHERE run_id = '" + run.RunId() + "'");
  };

  // The repository's key: off. The smaller change ranks first, by score.
  TandemRun off = fan_out({});
  ASSERT_EQ(off.exit_code, 0) << off.Describe();
  EXPECT_EQ(comparisons(off), "0");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "0");
  EXPECT_EQ(ById(VariantsJson(), 1)["rank"], 1);

  // --set on the command line wins over the repository's file: the judge
  // prefers the larger change, v2.
  TandemRun on = fan_out({"--set", "fanout.tournament=true"});
  ASSERT_EQ(on.exit_code, 0) << on.Describe();
  EXPECT_EQ(comparisons(on), "1");
  EXPECT_EQ(ById(VariantsJson(), 2)["rank"], 1);

  // The key on, --no-tournament off for this run.
  WriteFile(".tandem/config.toml", "[fanout]\ntournament = true\n");
  TandemRun flag = fan_out({"--no-tournament"});
  ASSERT_EQ(flag.exit_code, 0) << flag.Describe();
  EXPECT_EQ(comparisons(flag), "0");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "1");
}

}  // namespace
}  // namespace tandem::e2e
