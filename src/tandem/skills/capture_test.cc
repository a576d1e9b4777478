#include "tandem/skills/capture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tandem/base/redact.h"
#include "tandem/skills/catalog.h"

namespace tandem::skills {
namespace {
namespace fs = std::filesystem;

TrajectoryEntry Gate(int step, const std::string& name, protocol::Verdict verdict) {
  TrajectoryEntry e;
  e.kind = EntryKind::kGate;
  e.step = step;
  e.name = name;
  e.verdict = verdict;
  return e;
}

Attempt Verified() {
  Attempt a;
  a.run_id = "r1";
  a.goal = "make the slugify test pass";
  a.gates = {{"test", "each step", "sh test.sh"}, {"lint", "final", "sh lint.sh"}};
  TrajectoryEntry diff;
  diff.kind = EntryKind::kDiff;
  diff.step = 2;
  diff.text = "diff --git a/slugify.sh b/slugify.sh\n--- a/slugify.sh\n+++ b/slugify.sh\n"
              "diff --git a/docs/x.md b/docs/x.md\n";
  a.entries = {Gate(1, "test", protocol::Verdict::kFail), diff, Gate(2, "test", protocol::Verdict::kPass),
               Gate(2, "lint", protocol::Verdict::kPass)};
  a.ended = true;
  a.outcome = protocol::Outcome::kSucceeded;
  a.summary = "fixed";
  a.steps = 2;
  return a;
}

const char kAnswer[] =
    "Here is the skill:\n```markdown\n---\nname: slugify-lowercase\ndescription: Lower-cases "
    "slugs in slugify.sh\n---\n# Steps\n```sh\nsh test.sh\n```\n```\n";

TEST(Capture, TheLastSucceededAttemptWithPassingGatesIsChosen) {
  Attempt failed = Verified();
  failed.outcome = protocol::Outcome::kFailed;
  Attempt killed = Verified();
  killed.ended = false;
  auto chosen = VerifiedAttempt({Verified(), failed, Verified(), killed});
  ASSERT_TRUE(chosen.has_value());
  EXPECT_EQ(*chosen, 2u);
}

TEST(Capture, AnAttemptWithoutPassingGatesIsNotVerified) {
  Attempt no_gates = Verified();
  no_gates.gates.clear();
  auto none = VerifiedAttempt({no_gates});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("succeeded without gates"), std::string::npos);

  Attempt failed = Verified();
  failed.outcome = protocol::Outcome::kLimit;
  auto limit = VerifiedAttempt({failed});
  ASSERT_FALSE(limit.has_value());
  EXPECT_NE(limit.error().message().find("no attempt of it succeeded (limit)"), std::string::npos)
      << limit.error().message();
}

TEST(Capture, PassedGatesAreTheLastVerdictsAndPathsComeFromTheDiffs) {
  Attempt a = Verified();
  EXPECT_EQ(PassedGates(a), (std::vector<std::string>{"test", "lint"}));
  a.entries.push_back(Gate(3, "lint", protocol::Verdict::kFail));
  EXPECT_EQ(PassedGates(a), (std::vector<std::string>{"test"}));
  EXPECT_EQ(ChangedPaths(a), (std::vector<std::string>{"slugify.sh", "docs/x.md"}));
}

TEST(Capture, TheSkillInAFencedAnswerKeepsItsInnerFences) {
  std::string text = ExtractSkillText(kAnswer);
  EXPECT_TRUE(text.starts_with("---\nname: slugify-lowercase")) << text;
  EXPECT_NE(text.find("```sh\nsh test.sh\n```"), std::string::npos) << text;
  EXPECT_EQ(ExtractSkillText("---\nname: x\n"), "---\nname: x\n");
}

TEST(Capture, TandemSetsItsOwnMetadataWhateverThePlannerWrote) {
  std::string answer =
      "---\nname: slugify-lowercase\ndescription: Lower-cases slugs\nmetadata:\n  "
      "tandem-source-run: forged\n  author: planner\n---\nbody\n";
  auto skill = SkillFromAnswer(answer, Verified(), "r1/T2", "");
  ASSERT_TRUE(skill.has_value()) << skill.error().message();
  EXPECT_EQ(skill->Meta("tandem-source-run"), "r1/T2");
  EXPECT_EQ(skill->Meta("tandem-gates"), "test lint");
  EXPECT_EQ(skill->Meta("tandem-paths"), "slugify.sh docs/x.md");
  EXPECT_EQ(skill->Meta("author"), "planner");
  // It reads back, in a folder of its name, as a captured skill.
  auto again = ParseSkill(RenderSkill(*skill), "slugify-lowercase");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->Meta("tandem-source-run"), "r1/T2");
}

TEST(Capture, AGivenNameReplacesThePlannersAndABadOneIsRefused) {
  auto named = SkillFromAnswer(kAnswer, Verified(), "r1", "slug-fix");
  ASSERT_TRUE(named.has_value()) << named.error().message();
  EXPECT_EQ(named->name, "slug-fix");
  EXPECT_FALSE(SkillFromAnswer(kAnswer, Verified(), "r1", "Slug Fix").has_value());
}

TEST(Capture, AnAnswerThatIsNotASkillNamesTheLine) {
  auto bad = SkillFromAnswer("---\nname: Not Valid\ndescription: x\n---\n", Verified(), "r1", "");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message().starts_with("line 2: ")) << bad.error().message();
  EXPECT_FALSE(SkillFromAnswer("I could not do it.", Verified(), "r1", "").has_value());
}

TEST(Capture, SecretsInThePlannersAnswerAreRedacted) {
  Redactor::Register("capture-unit-canary-3f9a");
  std::string answer =
      "---\nname: slug-fix\ndescription: uses capture-unit-canary-3f9a\n---\nToken "
      "ghp_UnitCanary0123456789abcdefABCDEF012345 and capture-unit-canary-3f9a\n";
  auto skill = SkillFromAnswer(answer, Verified(), "r1", "");
  ASSERT_TRUE(skill.has_value()) << skill.error().message();
  std::string text = RenderSkill(*skill);
  EXPECT_EQ(text.find("capture-unit-canary-3f9a"), std::string::npos) << text;
  EXPECT_EQ(text.find("ghp_UnitCanary"), std::string::npos) << text;
  Attempt a = Verified();
  a.goal = "use capture-unit-canary-3f9a";
  EXPECT_EQ(EvalsJson(*skill, a).find("capture-unit-canary-3f9a"), std::string::npos);
  EXPECT_EQ(CapturePrompt({a}, 0).find("capture-unit-canary-3f9a"), std::string::npos);
}

TEST(Capture, ThePromptHasTheStepsAndWhatEarlierAttemptsFailedOn) {
  Attempt earlier = Verified();
  earlier.outcome = protocol::Outcome::kFailed;
  earlier.summary = "gave up";
  TrajectoryEntry rollback;
  rollback.kind = EntryKind::kRollback;
  rollback.step = 1;
  rollback.text = "gate 'test' failed";
  earlier.entries = {rollback};
  Attempt a = Verified();
  TrajectoryEntry reply;
  reply.kind = EntryKind::kAssistant;
  reply.step = 1;
  reply.calls = {{"c1", "write_file", "{\"path\":\"slugify.sh\"}"}};
  a.entries.insert(a.entries.begin(), reply);
  std::string prompt = CapturePrompt({earlier, a}, 1);
  EXPECT_NE(prompt.find("Task: make the slugify test pass"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("- test (each step): sh test.sh"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("attempt 1 ended failed: gave up"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("step 1 rolled back: gate 'test' failed"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("Call write_file {\"path\":\"slugify.sh\"}"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("Gate test: fail"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("```diff\ndiff --git a/slugify.sh"), std::string::npos) << prompt;
}

class WriteSkillFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("capture_write_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "repo");
  }
  void TearDown() override { fs::remove_all(root_); }
  Skill Sample() {
    auto skill = SkillFromAnswer(kAnswer, Verified(), "r1", "");
    EXPECT_TRUE(skill.has_value());
    return *skill;
  }
  fs::path root_;
};

TEST_F(WriteSkillFolderTest, WritesAFolderDiscoveryFinds) {
  Skill skill = Sample();
  auto rel = WriteSkillFolder(root_ / "repo", ".agents/skills", skill, EvalsJson(skill, Verified()));
  ASSERT_TRUE(rel.has_value()) << rel.error().message();
  EXPECT_EQ(*rel, ".agents/skills/slugify-lowercase/SKILL.md");
  Catalog catalog = DiscoverSkills({(root_ / "repo").string(), ".agents/skills", ""});
  ASSERT_EQ(catalog.skills.size(), 1u) << (catalog.problems.empty() ? "" : catalog.problems[0]);
  EXPECT_TRUE(catalog.skills[0].captured());
  EXPECT_TRUE(fs::exists(root_ / "repo/.agents/skills/slugify-lowercase/evals/evals.json"));
}

TEST_F(WriteSkillFolderTest, AnExistingSkillIsNeverOverwritten) {
  fs::create_directories(root_ / "repo/.agents/skills/slugify-lowercase");
  std::ofstream(root_ / "repo/.agents/skills/slugify-lowercase/SKILL.md") << "a person's";
  auto rel = WriteSkillFolder(root_ / "repo", ".agents/skills", Sample(), "{}");
  ASSERT_FALSE(rel.has_value());
  EXPECT_EQ(rel.error().code(), StatusCode::kAlreadyExists);
  std::ifstream in(root_ / "repo/.agents/skills/slugify-lowercase/SKILL.md");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "a person's");
}

TEST_F(WriteSkillFolderTest, AFolderThatIsALinkOutOfTheRepositoryIsRefused) {
  fs::create_directories(root_ / "elsewhere");
  fs::create_symlink(root_ / "elsewhere", root_ / "repo/.agents");
  auto rel = WriteSkillFolder(root_ / "repo", ".agents/skills", Sample(), "{}");
  ASSERT_FALSE(rel.has_value());
  EXPECT_EQ(rel.error().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs::is_empty(root_ / "elsewhere")) << "wrote through the link";
}

}  // namespace
}  // namespace tandem::skills
