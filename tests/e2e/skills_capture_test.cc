// Capture end to end (docs/SKILLS.md, "Capture"): the real binary keeps a
// trajectory of every task, `tandem skills capture RUN` has the planner
// (scripted) distill a verified run into .agents/skills/<name>/SKILL.md
// with evals/evals.json, the captured skill validates and is found by the
// ranking for a later similar task (asserted on the recorded request), and
// skills.capture = "auto" captures after a verified `tandem do`. Secrets a
// command printed reach neither the trajectory nor the skill.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/canary_helpers.h"
#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr char kDistill[] = "Distill the run into a skill";

const std::string kSkillMd =
    "---\nname: slugify-lowercase\n"
    "description: Fixes slugify.sh so slugs are lower-case; use when the slugify test fails on "
    "upper-case input\n---\n# Slugify lower-case\n\n## Steps that worked\n1. Pipe the slug "
    "through `tr A-Z a-z` in slugify.sh.\n2. Run `sh test.sh`.\n\n## Pitfalls\nnone seen\n";

class SkillsCaptureTest : public E2eTest {
 protected:
  std::string Home() {
    std::string home = OutsidePath("home");
    std::filesystem::create_directories(home);
    return home;
  }
  std::map<std::string, std::string> Env() { return {{"HOME", Home()}}; }
  // The planner's turn: answers any capture request with `text`.
  static json PlannerTurn(const std::string& text, int assistant_turns = kAnyTurn) {
    json turn = Turn(assistant_turns, {}, text);
    turn["when"]["system_contains"] = kDistill;
    return turn;
  }
  // The executor fixes slugify.sh in one step, then finishes.
  static std::vector<json> FixTurns() {
    return {Turn(0, {Call("write_file",
                          {{"path", "slugify.sh"},
                           {"content", "#!/bin/sh\necho \"$1\" | tr -s ' ' '-' | tr A-Z a-z\n"}})}),
            Finish(1, "slugify lower-cases now")};
  }
  static json FixAndDistill(const std::string& skill_md = kSkillMd) {
    std::vector<json> turns = {PlannerTurn(skill_md)};
    for (json& t : FixTurns()) turns.push_back(std::move(t));
    return Script(turns);
  }
  // Recorded requests whose system prompt is the capture's.
  std::vector<json> PlannerRequests() {
    std::vector<json> out;
    for (const json& r : Requests()) {
      if (r["body"].dump().find(kDistill) != std::string::npos) out.push_back(r);
    }
    return out;
  }
  std::string FirstUserText(size_t i) {
    auto requests = Requests();
    if (requests.size() <= i) return "";
    for (const json& m : requests[i]["body"]["messages"]) {
      if (m.value("role", "") != "user") continue;
      return m["content"].is_string() ? m["content"].get<std::string>() : m["content"].dump();
    }
    return "";
  }
  std::string TandemStateDir() { return std::filesystem::path(LedgerPath()).parent_path().string(); }
  std::string TrajectoryOf(const std::string& run) {
    return Slurp(TandemStateDir() + "/trajectories/" + run + "/run.jsonl");
  }
};

TEST_F(SkillsCaptureTest, AVerifiedRunIsCapturedAndALaterSimilarTaskGetsTheSkill) {
  MakeSlugifyRepo();
  StartServer(FixAndDistill());
  TandemRun first = Do("make the slugify test pass: slugs must be lower-case", {}, Env());
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  ASSERT_TRUE(PlannerRequests().empty()) << "captured without being asked (not a terminal: ask is off)";

  std::string trajectory = TrajectoryOf(first.RunId());
  EXPECT_NE(trajectory.find("\"type\":\"attempt\""), std::string::npos) << trajectory;
  EXPECT_NE(trajectory.find("\"name\":\"write_file\""), std::string::npos) << trajectory;
  EXPECT_NE(trajectory.find("\"type\":\"gate\""), std::string::npos) << trajectory;
  EXPECT_NE(trajectory.find("\"type\":\"diff\""), std::string::npos) << trajectory;
  EXPECT_NE(trajectory.find("\"outcome\":\"succeeded\""), std::string::npos) << trajectory;

  TandemRun capture =
      RunTandem({"skills", "capture", first.RunId(), "--export", "claude"}, Env());

  ASSERT_EQ(capture.exit_code, 0) << capture.Describe();
  EXPECT_NE(capture.out.find("captured slugify-lowercase from " + first.RunId()), std::string::npos)
      << capture.out;
  // The planner saw the run: the call, the gate that passed, the change.
  auto planner = PlannerRequests();
  ASSERT_EQ(planner.size(), 1u);
  std::string asked = planner[0]["body"].dump();
  EXPECT_NE(asked.find("make the slugify test pass"), std::string::npos);
  EXPECT_NE(asked.find("Call write_file"), std::string::npos) << asked;
  EXPECT_NE(asked.find("Gate test: pass"), std::string::npos) << asked;
  EXPECT_NE(asked.find("tr A-Z a-z"), std::string::npos) << asked;

  std::string skill = ReadFile(".agents/skills/slugify-lowercase/SKILL.md");
  EXPECT_NE(skill.find("tandem-source-run: \"" + first.RunId() + "\""), std::string::npos) << skill;
  EXPECT_NE(skill.find("tandem-gates: \"test\""), std::string::npos) << skill;
  EXPECT_NE(skill.find("tandem-paths: \"slugify.sh\""), std::string::npos) << skill;
  EXPECT_EQ(ReadFile(".claude/skills/slugify-lowercase/SKILL.md"), skill) << "--export claude";
  json evals = json::parse(ReadFile(".agents/skills/slugify-lowercase/evals/evals.json"));
  EXPECT_EQ(evals["skill_name"], "slugify-lowercase");
  EXPECT_EQ(evals["evals"][0]["id"], 1);
  EXPECT_EQ(evals["evals"][0]["prompt"], "make the slugify test pass: slugs must be lower-case");

  // The existing parser accepts it, as a captured (verified) skill.
  TandemRun list = RunTandem({"skills", "list"}, Env());
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_NE(list.out.find("slugify-lowercase  [repo, captured]"), std::string::npos) << list.out;

  // A later, similar task gets it in its first request.
  Git("checkout -- slugify.sh");
  size_t before = Requests().size();
  TandemRun later = Do("slugify test fails: the slugs are not lower-case", {}, Env());
  ASSERT_EQ(later.exit_code, 0) << later.Describe();
  std::string first_request = FirstUserText(before);
  EXPECT_NE(first_request.find("<skill name=\"slugify-lowercase\" source=\".agents/skills/"
                               "slugify-lowercase/SKILL.md\" verified=\"yes\">"),
            std::string::npos)
      << first_request;
  EXPECT_NE(first_request.find("Pipe the slug through `tr A-Z a-z`"), std::string::npos);

  // A second capture of the same name writes nothing.
  TandemRun again = RunTandem({"skills", "capture", first.RunId()}, Env());
  EXPECT_EQ(again.exit_code, 2) << again.Describe();
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(ReadFile(".agents/skills/slugify-lowercase/SKILL.md"), skill);
}

TEST_F(SkillsCaptureTest, ARunTandemDidNotVerifyIsNotCaptured) {
  MakeSlugifyRepo();
  StartServer(Script({PlannerTurn(kSkillMd), Turn(kAnyTurn, {Call("read_file", {{"path", "slugify.sh"}})})}),
              "[limits]\nmax_steps = 1\n");
  TandemRun run = Do("fix slugify", {}, Env());
  ASSERT_NE(run.exit_code, 0) << run.Describe();

  TandemRun capture = RunTandem({"skills", "capture", run.RunId()}, Env());

  EXPECT_EQ(capture.exit_code, 2) << capture.Describe();
  EXPECT_NE(capture.err.find("not verified; only verified runs become skills"), std::string::npos)
      << capture.err;
  EXPECT_TRUE(PlannerRequests().empty());
  EXPECT_FALSE(Exists(".agents/skills"));

  TandemRun unknown = RunTandem({"skills", "capture", "20200101-000000-0000"}, Env());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  EXPECT_NE(unknown.err.find("no run 20200101-000000-0000"), std::string::npos) << unknown.err;
  TandemRun escape = RunTandem({"skills", "capture", "../../etc"}, Env());
  EXPECT_EQ(escape.exit_code, 2) << escape.Describe();
}

TEST_F(SkillsCaptureTest, AnInvalidSkillFromThePlannerGoesBackWithTheError) {
  MakeSlugifyRepo();
  std::vector<json> turns = {
      PlannerTurn("---\nname: Slugify Fix\ndescription: fixes slugs\n---\nbody\n", 0),
      PlannerTurn("```markdown\n" + kSkillMd + "```\n", 1)};
  for (json& t : FixTurns()) turns.push_back(std::move(t));
  StartServer(Script(turns));
  TandemRun run = Do("make the slugify test pass", {}, Env());
  ASSERT_EQ(run.exit_code, 0) << run.Describe();

  TandemRun capture = RunTandem({"skills", "capture", run.RunId()}, Env());

  ASSERT_EQ(capture.exit_code, 0) << capture.Describe();
  auto planner = PlannerRequests();
  ASSERT_EQ(planner.size(), 2u);
  EXPECT_NE(planner[1]["body"].dump().find("That SKILL.md is not valid: line 2: "), std::string::npos)
      << planner[1]["body"].dump();
  EXPECT_TRUE(Exists(".agents/skills/slugify-lowercase/SKILL.md"));
}

TEST_F(SkillsCaptureTest, AutoCaptureSavesAVerifiedDoAsASkill) {
  MakeSlugifyRepo();
  StartServer(FixAndDistill(), "[skills]\ncapture = \"auto\"\n");

  TandemRun run = Do("make the slugify test pass: slugs must be lower-case", {}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.err.find("captured slugify-lowercase from " + run.RunId()), std::string::npos)
      << run.Describe();
  EXPECT_EQ(PlannerRequests().size(), 1u);
  EXPECT_TRUE(Exists(".agents/skills/slugify-lowercase/SKILL.md"));
  EXPECT_TRUE(Exists(".agents/skills/slugify-lowercase/evals/evals.json"));
}

TEST_F(SkillsCaptureTest, ATaskOfAPlanRunIsCapturedAsRunSlashTask) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: alpha\n\n- [ ] T1: Create alpha\n  - do: Write alpha.txt [alpha]\n"
                       "  - scope: alpha.txt\n  - after: —\n");
  CommitAll("plan");
  json write = Turn(0, {Call("write_file", {{"path", "alpha.txt"}, {"content", "alpha\n"}})});
  write["when"]["any_message_contains"] = "[alpha]";
  json finish = Finish(1, "wrote alpha.txt");
  finish["when"]["any_message_contains"] = "[alpha]";
  const std::string skill_md =
      "---\nname: create-alpha\ndescription: Creates alpha.txt; use for alpha files\n---\nWrite it.\n";
  StartServer(Script({PlannerTurn(skill_md), write, finish}), "[limits]\nparallel_tasks = 1\n");
  TandemRun run = RunTandem({"run", "--json"}, Env());
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string id = run.RunId();
  ASSERT_FALSE(id.empty()) << run.Describe();
  EXPECT_NE(Slurp(TandemStateDir() + "/trajectories/" + id + "/task-T1.jsonl").find("\"task\":\"T1\""),
            std::string::npos);

  TandemRun whole = RunTandem({"skills", "capture", id}, Env());
  EXPECT_EQ(whole.exit_code, 2) << whole.Describe();
  EXPECT_NE(whole.err.find("name one of its tasks, " + id + "/TASK"), std::string::npos) << whole.err;
  TandemRun unknown = RunTandem({"skills", "capture", id + "/T9"}, Env());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  EXPECT_NE(unknown.err.find("has no task T9"), std::string::npos) << unknown.err;
  EXPECT_TRUE(PlannerRequests().empty());

  TandemRun capture = RunTandem({"skills", "capture", id + "/T1"}, Env());
  ASSERT_EQ(capture.exit_code, 0) << capture.Describe();
  std::string skill = ReadFile(".agents/skills/create-alpha/SKILL.md");
  EXPECT_NE(skill.find("tandem-source-run: \"" + id + "/T1\""), std::string::npos) << skill;
  EXPECT_NE(skill.find("tandem-paths: \"alpha.txt\""), std::string::npos) << skill;
}

// A command prints secrets (a key shape, and a value tandem removed from
// the commands' environment); the model's own command line holds one; the
// planner (careless or malicious) writes them into its answer. None reaches
// the trajectory, the planner's request or the skill's files.
TEST_F(SkillsCaptureTest, ACanaryPrintedByACommandNeverReachesTheTrajectoryOrTheSkill) {
  const std::string shaped = "ghp_CaptureCanary0123456789abcdefABCDEF01";
  const std::string plain = "capture-canary-plain-77c1";
  WriteFile("notes.txt", "deploy token " + plain + " and " + shaped + "\n");
  MakeSlugifyRepo();
  std::vector<json> turns = {PlannerTurn(kSkillMd + "Token: " + plain + " / " + shaped + "\n")};
  turns.push_back(Turn(0, {Call("run_command", {{"command", "cat notes.txt; echo " + shaped}})}));
  turns.push_back(Turn(1, {Call("write_file",
                                {{"path", "slugify.sh"},
                                 {"content", "#!/bin/sh\necho \"$1\" | tr -s ' ' '-' | tr A-Z a-z\n"}})}));
  turns.push_back(Finish(2, "fixed"));
  StartServer(Script(turns), "[sandbox]\nmode = \"none\"\n");
  std::map<std::string, std::string> env = Env();
  env["SERVICE_TOKEN"] = plain;

  TandemRun run = Do("make the slugify test pass", {}, env);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  TandemRun capture = RunTandem({"skills", "capture", run.RunId()}, env);
  ASSERT_EQ(capture.exit_code, 0) << capture.Describe();

  std::string trajectory = TrajectoryOf(run.RunId());
  ASSERT_NE(trajectory.find("run_command"), std::string::npos) << "no trajectory to check";
  EXPECT_NE(trajectory.find("[REDACTED]"), std::string::npos) << trajectory;
  std::string skill = ReadFile(".agents/skills/slugify-lowercase/SKILL.md");
  EXPECT_NE(skill.find("Token: [REDACTED]"), std::string::npos) << skill;
  // What tandem sent: the executor's requests replay the model's own calls
  // byte for byte (its own echo of the key shape among them), so those are
  // checked for what only the command printed; the planner's for both.
  std::string requests, planner;
  for (const json& r : Requests()) requests += r["body"].dump();
  for (const json& r : PlannerRequests()) planner += r["body"].dump();
  ASSERT_FALSE(planner.empty());
  EXPECT_EQ(requests.find(plain), std::string::npos) << "the printed value reached the model";
  const std::string state = DirBytes(TandemStateDir());
  const std::string evals = ReadFile(".agents/skills/slugify-lowercase/evals/evals.json");
  for (const std::string& canary : {shaped, plain}) {
    EXPECT_EQ(state.find(canary), std::string::npos) << canary << " in the trajectory or ledger";
    EXPECT_EQ(skill.find(canary), std::string::npos) << canary << " in SKILL.md";
    EXPECT_EQ(evals.find(canary), std::string::npos) << canary << " in evals.json";
    EXPECT_EQ(planner.find(canary), std::string::npos) << canary << " reached the planner";
    EXPECT_EQ(capture.out.find(canary), std::string::npos) << canary << " printed";
  }
}

}  // namespace
}  // namespace tandem::e2e
