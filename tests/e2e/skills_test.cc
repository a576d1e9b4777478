// Skills end to end (docs/SKILLS.md): the real binary finds SKILL.md files
// in the repository, .claude/skills/ and ~/.agents/skills/, puts the ones
// that fit into the executor's first request (asserted on the request the
// scripted model server recorded), records them in the ledger, skips a
// malformed one with its file and line, and stops injecting a skill whose
// replays keep failing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class SkillsTest : public E2eTest {
 protected:
  // The first user message of recorded request `i`.
  std::string FirstUserText(size_t i = 0) {
    auto requests = Requests();
    if (requests.size() <= i) return "";
    for (const json& m : requests[i]["body"]["messages"]) {
      if (m.value("role", "") != "user") continue;
      return m["content"].is_string() ? m["content"].get<std::string>() : m["content"].dump();
    }
    return "";
  }
  void WriteSkill(const std::string& folder, const std::string& name, const std::string& description,
                  const std::string& body) {
    WriteFile(folder + "/" + name + "/SKILL.md",
              "---\nname: " + name + "\ndescription: " + description + "\n---\n" + body);
  }
  std::string Home() {
    std::string home = OutsidePath("home");
    std::filesystem::create_directories(home);
    return home;
  }
  TandemRun DoWithHome(const std::string& task, const std::vector<std::string>& extra = {}) {
    return Do(task, extra, {{"HOME", Home()}});
  }
  static json FixSlugify() {
    return Script({Turn(0, {Call("write_file",
                                 {{"path", "slugify.sh"},
                                  {"content", "#!/bin/sh\necho \"$1\" | tr -s ' ' '-' | tr A-Z a-z\n"}})}),
                   Finish(1)});
  }
};

TEST_F(SkillsTest, ASkillThatFitsTheTaskIsInTheFirstRequestAndRecorded) {
  WriteSkill(".agents/skills", "slugify-lowercase",
             "Fixes slugify.sh so slugs are lower-case; use when the slugify test fails",
             "1. Pipe through `tr A-Z a-z`.\n2. Run sh test.sh.\n");
  WriteSkill(".agents/skills", "release-notes", "Writes release notes for a tag", "Unrelated.\n");
  MakeSlugifyRepo();
  StartServer(FixSlugify());

  TandemRun run = DoWithHome("make the slugify test pass: slugs must be lower-case");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string first = FirstUserText();
  EXPECT_NE(first.find("<skill name=\"slugify-lowercase\" source=\".agents/skills/slugify-lowercase/SKILL.md\" verified=\"no\">"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("Pipe through `tr A-Z a-z`."), std::string::npos);
  EXPECT_EQ(first.find("<skill name=\"release-notes\""), std::string::npos)
      << "a skill that does not fit was sent";
  EXPECT_TRUE(run.HasNotice("skills: slugify-lowercase (unverified")) << run.Describe();
  std::string where = " FROM skill_uses WHERE run_id = '" + run.RunId() + "'";
  EXPECT_EQ(LedgerValue("SELECT group_concat(skill)" + where), "slugify-lowercase");
  EXPECT_EQ(LedgerValue("SELECT outcome" + where), "succeeded");
  EXPECT_EQ(LedgerValue("SELECT injected" + where), "1");
}

TEST_F(SkillsTest, AHandWrittenClaudeCodeSkillAndAUserSkillAreFoundAndUsed) {
  WriteFile(".claude/skills/slug-rules/SKILL.md",
            "---\nname: slug-rules\ndescription: >\n  Slug rules for slugify.sh: lower-case,\n"
            "  single hyphens.\nallowed-tools: Read, Edit\n---\n# Slug rules\nCLAUDE-SKILL-BODY\n");
  std::string home = Home();
  std::filesystem::create_directories(home + "/.agents/skills/slug-tests");
  std::ofstream(home + "/.agents/skills/slug-tests/SKILL.md")
      << "---\nname: slug-tests\ndescription: How to run the slugify tests\n---\nUSER-SKILL-BODY\n";
  MakeSlugifyRepo();
  StartServer(FixSlugify());

  TandemRun run =
      Do("fix the slug rules of slugify.sh (lower-case, single hyphens) and run the slugify tests",
         {}, {{"HOME", home}});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::string first = FirstUserText();
  EXPECT_NE(first.find("source=\".claude/skills/slug-rules/SKILL.md\""), std::string::npos) << first;
  EXPECT_NE(first.find("CLAUDE-SKILL-BODY"), std::string::npos);
  EXPECT_NE(first.find("source=\"~/.agents/skills/slug-tests/SKILL.md\""), std::string::npos) << first;
  EXPECT_NE(first.find("USER-SKILL-BODY"), std::string::npos);
}

TEST_F(SkillsTest, AMalformedSkillIsReportedWithFileAndLineAndTheRunGoesOn) {
  WriteFile(".agents/skills/broken/SKILL.md", "---\nname: broken\ndescription: slugify\nname: again\n---\n");
  WriteSkill(".agents/skills", "slugify-lowercase", "Fixes slugify lower-case slugs", "FIX-BODY\n");
  MakeSlugifyRepo();
  StartServer(FixSlugify());

  TandemRun run = DoWithHome("fix slugify lower-case");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(run.HasNotice(".agents/skills/broken/SKILL.md:4: duplicate key 'name'")) << run.Describe();
  EXPECT_NE(FirstUserText().find("FIX-BODY"), std::string::npos);
}

TEST_F(SkillsTest, SkillForcesASkillTheRankingWouldNotPick) {
  WriteSkill(".agents/skills", "house-style", "Commit message conventions", "HOUSE-STYLE-BODY\n");
  MakeSlugifyRepo();
  StartServer(FixSlugify());

  TandemRun run = DoWithHome("fix slugify", {"--skill", "house-style"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(FirstUserText().find("HOUSE-STYLE-BODY"), std::string::npos);
  EXPECT_EQ(LedgerValue("SELECT forced FROM skill_uses WHERE skill = 'house-style'"), "1");
}

TEST_F(SkillsTest, AnUnknownForcedSkillIsRefusedBeforeAnyRequest) {
  WriteSkill(".agents/skills", "house-style", "Commit message conventions", "x\n");
  MakeSlugifyRepo();
  StartServer(FixSlugify());

  TandemRun run = DoWithHome("fix slugify", {"--skill", "no-such-skill"});

  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("no skill named 'no-such-skill' (found: house-style)"), std::string::npos)
      << run.err;
  EXPECT_TRUE(Requests().empty());
}

// A skill whose replays fail more than skills.flag_failure_share (of at
// least skills.flag_min_replays) is no longer injected.
TEST_F(SkillsTest, ASkillWhoseReplaysFailIsFlaggedAndNoLongerInjected) {
  WriteSkill(".agents/skills", "slugify-lowercase", "Fixes slugify lower-case slugs", "BAD-ADVICE\n");
  MakeSlugifyRepo();
  // Every run ends at the step limit without fixing anything.
  StartServer(Script({Turn(kAnyTurn, {Call("read_file", {{"path", "slugify.sh"}})})}),
              "[limits]\nmax_steps = 1\n[skills]\nflag_min_replays = 2\nflag_failure_share = 0.5\n");

  for (int i = 0; i < 2; ++i) {
    size_t first = Requests().size();
    TandemRun run = DoWithHome("fix slugify lower-case slugs");
    ASSERT_NE(run.exit_code, 0) << run.Describe();
    EXPECT_NE(FirstUserText(first).find("BAD-ADVICE"), std::string::npos)
        << "replay " << i << " did not get the skill";
  }
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM skill_uses WHERE outcome = 'limit'"), "2");

  size_t before = Requests().size();
  TandemRun third = DoWithHome("fix slugify lower-case slugs");
  ASSERT_GT(Requests().size(), before);
  EXPECT_EQ(FirstUserText(before).find("BAD-ADVICE"), std::string::npos)
      << "a flagged skill was injected";
}

TEST_F(SkillsTest, EvalRunsTheCasesWithAndWithoutTheSkillAndReportsBothArms) {
  WriteSkill(".agents/skills", "slugify-lowercase", "Fixes slugify lower-case slugs", "EVAL-BODY\n");
  WriteFile(".agents/skills/slugify-lowercase/evals/evals.json",
            R"({"skill_name": "slugify-lowercase", "evals": [{"id": 1, "prompt": "fix slugify"}]})");
  MakeSlugifyRepo();
  std::string before = ReadFile("slugify.sh");
  StartServer(FixSlugify());

  TandemRun run = RunTandem({"skills", "eval", "slugify-lowercase"}, {{"HOME", Home()}});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("with     1/1 passed (100%)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("without  1/1 passed (100%)"), std::string::npos) << run.out;
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 4u);  // two requests per arm
  EXPECT_NE(FirstUserText(0).find("EVAL-BODY"), std::string::npos);
  EXPECT_EQ(FirstUserText(2).find("EVAL-BODY"), std::string::npos) << "the arm without got the skill";
  EXPECT_EQ(LedgerValue("SELECT group_concat(injected || ':' || eval || ':' || outcome, ' ') FROM "
                        "(SELECT * FROM skill_uses ORDER BY id)"),
            "1:1:succeeded 0:1:succeeded");
  EXPECT_EQ(ReadFile("slugify.sh"), before) << "an eval arm's changes were left in the tree";

  TandemRun stats = RunTandem({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json report = json::parse(stats.out);
  ASSERT_EQ(report["skills"].size(), 2u) << report["skills"].dump();
  EXPECT_EQ(report["skills"][0]["skill"], "slugify-lowercase");
  EXPECT_EQ(report["skills"][0]["with"]["tasks"], 1);
  EXPECT_EQ(report["skills"][0]["without"]["tasks"], 1);
  EXPECT_GT(report["skills"][0]["with"]["steps_per_task"].get<double>(), 0.0);
  EXPECT_EQ(report["skills"][0]["with"]["success_rate"], 1.0);
  EXPECT_EQ(report["skills"][1]["skill"], "(all skills)");
}

TEST_F(SkillsTest, ListShowsCountsAndFlagsAndRestoreUnflags) {
  WriteSkill(".agents/skills", "slugify-lowercase", "Fixes slugify lower-case slugs", "BAD-ADVICE\n");
  MakeSlugifyRepo();
  StartServer(Script({Turn(kAnyTurn, {Call("read_file", {{"path", "slugify.sh"}})})}),
              "[limits]\nmax_steps = 1\n[skills]\nflag_min_replays = 1\n");
  ASSERT_NE(DoWithHome("fix slugify lower-case slugs").exit_code, 0);

  TandemRun list = RunTandem({"skills", "list"}, {{"HOME", Home()}});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_NE(list.out.find("slugify-lowercase  [repo, unverified] .agents/skills/slugify-lowercase/SKILL.md"),
            std::string::npos) << list.out;
  EXPECT_NE(list.out.find("1 replays, 0 succeeded (0%) · FLAGGED"), std::string::npos) << list.out;

  TandemRun restore = RunTandem({"skills", "restore", "slugify-lowercase"}, {{"HOME", Home()}});
  ASSERT_EQ(restore.exit_code, 0) << restore.Describe();
  TandemRun after = RunTandem({"skills", "list"}, {{"HOME", Home()}});
  EXPECT_EQ(after.out.find("FLAGGED"), std::string::npos) << after.out;

  size_t first = Requests().size();
  DoWithHome("fix slugify lower-case slugs");
  EXPECT_NE(FirstUserText(first).find("BAD-ADVICE"), std::string::npos) << "a restored skill is injected again";

  TandemRun show = RunTandem({"skills", "show", "slugify-lowercase"}, {{"HOME", Home()}});
  EXPECT_NE(show.out.find("BAD-ADVICE"), std::string::npos) << show.Describe();
  TandemRun rm = RunTandem({"skills", "rm", "slugify-lowercase"}, {{"HOME", Home()}});
  ASSERT_EQ(rm.exit_code, 0) << rm.Describe();
  EXPECT_FALSE(Exists(".agents/skills/slugify-lowercase/SKILL.md"));
}

TEST_F(SkillsTest, EveryVariantOfAFanoutSeesTheBaseSkillsNotAnotherVariantsEdits) {
  // Each variant, once it has its skills, adds a skill of its own under a
  // name git ignores (so a pooled worktree keeps it when reset for the next
  // variant) and rewrites the committed one. One at a time: variants 2 and
  // 3 run in variant 1's worktree.
  WriteSkill(".agents/skills", "slugify-lowercase",
             "Fixes slugify.sh so slugs are lower-case; use when the slugify test fails",
             "BASE-SKILL-BODY\n");
  WriteSkill(".agents/skills", "release-notes", "Writes release notes for a tag", "Unrelated.\n");
  WriteFile(".gitignore", ".agents/skills/local-*\n");
  MakeSlugifyRepo();
  json edits = Turn(
      0, {Call("write_file",
               {{"path", ".agents/skills/local-leak/SKILL.md"},
                {"content",
                 "---\nname: local-leak\ndescription: Fixes slugify.sh lower-case slugs, the "
                 "slugify test\n---\nLEAKED-SKILL-BODY\n"}}),
          Call("write_file",
               {{"path", ".agents/skills/slugify-lowercase/SKILL.md"},
                {"content",
                 "---\nname: slugify-lowercase\ndescription: Fixes slugify.sh so slugs are "
                 "lower-case; use when the slugify test fails\n---\nEDITED-SKILL-BODY\n"}}),
          Call("write_file",
               {{"path", "slugify.sh"},
                {"content", "#!/bin/sh\necho \"$1\" | tr -s ' ' '-' | tr A-Z a-z\n"}})});
  StartServer(Script({edits, Finish(1)}));

  TandemRun run = DoWithHome("make the slugify test pass: slugs must be lower-case",
                             {"--variants", "3", "--parallel", "1"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM variants WHERE state = 'passed'"), "3");
  size_t first_requests = 0;
  auto requests = Requests();
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string first = FirstUserText(i);
    if (first.find("<skills>") == std::string::npos) continue;
    ++first_requests;
    EXPECT_NE(first.find("BASE-SKILL-BODY"), std::string::npos) << "request " << i << ": " << first;
    EXPECT_EQ(first.find("EDITED-SKILL-BODY"), std::string::npos) << "request " << i;
    EXPECT_EQ(first.find("LEAKED-SKILL-BODY"), std::string::npos)
        << "request " << i << ": another variant's skill reached this one";
  }
  EXPECT_EQ(first_requests, 6u) << "two requests a variant, each with the base's skills";
}

}  // namespace
}  // namespace tandem::e2e
