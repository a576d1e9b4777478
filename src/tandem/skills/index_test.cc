#include "tandem/skills/index.h"

#include <gtest/gtest.h>

namespace tandem::skills {
namespace {

TEST(Tokenize, SplitsPathsLowercasesDropsStopWordsAndPlurals) {
  EXPECT_EQ(Tokenize("Fix the src/date_parse.cc Tests"),
            (std::vector<std::string>{"fix", "src", "date", "parse", "cc", "test"}));
}

TEST(SkillIndex, RanksTheSkillWhoseWordsTheTaskSharesFirst) {
  std::vector<SkillDoc> docs = {
      {"add-endpoint", "Adds an HTTP endpoint with its route and handler", "src/server/routes.cc"},
      {"fix-date-parsing", "Fixes date parsing bugs; use when a date test fails", "src/date.cc"},
      {"bump-version", "Bumps the release version in CMakeLists.txt", "CMakeLists.txt"},
  };
  SkillIndex index = SkillIndex::Build(docs);
  auto hits = index.Search("the date test fails after parsing 2024-02-30", 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].doc, 1u);
  EXPECT_GT(hits[0].score, 0);
  for (const auto& h : hits) EXPECT_NE(h.doc, 2u);  // shares no word
  EXPECT_TRUE(index.Search("zzz qqq", 3).empty());
}

TEST(SkillIndex, ARareWordOutweighsACommonOne) {
  std::vector<SkillDoc> docs = {
      {"a", "update test for parser", ""},
      {"b", "update test for lexer", ""},
      {"c", "update test for tokenizer", ""},
  };
  auto hits = SkillIndex::Build(docs).Search("update test lexer", 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].doc, 1u);
}

Catalog MakeCatalog() {
  Catalog c;
  auto add = [&](std::string name, std::string description, std::string body, bool captured) {
    FoundSkill f;
    f.skill.name = name;
    f.skill.description = std::move(description);
    f.skill.body = std::move(body);
    if (captured) f.skill.SetMeta("tandem-source-run", "r1");
    f.shown = ".agents/skills/" + name + "/SKILL.md";
    c.skills.push_back(std::move(f));
  };
  add("fix-date-parsing", "Fixes date parsing bugs", "Run make test-date.\n", true);
  add("date-format", "Formats dates for display", std::string(4000, 'x') + "\n", false);
  add("add-endpoint", "Adds an HTTP endpoint", "Edit routes.\n", false);
  return c;
}

TEST(Select, PutsTheBestMatchesInTheBlockWithinTheBudget) {
  Catalog c = MakeCatalog();
  SkillIndex index = SkillIndex::Build(c);
  SelectOptions options;
  options.token_budget = 500;  // the 4,000-byte date-format does not fit
  options.min_score = 0.01;
  auto sel = Select(c, index, "fix the date parsing of dates", options);
  ASSERT_TRUE(sel) << sel.error().ToString();
  ASSERT_EQ(sel->picked.size(), 1u);
  EXPECT_EQ(sel->picked[0].name, "fix-date-parsing");
  EXPECT_TRUE(sel->picked[0].verified);
  EXPECT_NE(sel->text.find("<skill name=\"fix-date-parsing\""), std::string::npos);
  EXPECT_NE(sel->text.find("Run make test-date."), std::string::npos);
  EXPECT_LE(static_cast<int64_t>(sel->text.size() / 4), options.token_budget);
}

TEST(Select, AForcedSkillComesFirstEvenWithoutAMatchAndIsCutToFit) {
  Catalog c = MakeCatalog();
  SkillIndex index = SkillIndex::Build(c);
  SelectOptions options;
  options.token_budget = 300;
  options.forced = {"date-format"};
  auto sel = Select(c, index, "add an endpoint", options);
  ASSERT_TRUE(sel);
  ASSERT_GE(sel->picked.size(), 1u);
  EXPECT_EQ(sel->picked[0].name, "date-format");
  EXPECT_TRUE(sel->picked[0].forced);
  EXPECT_TRUE(sel->picked[0].truncated);
  EXPECT_LE(static_cast<int64_t>(sel->text.size() / 4), options.token_budget + 16);
}

TEST(Select, AFlaggedSkillIsNotPickedByTheRanking) {
  Catalog c = MakeCatalog();
  SkillIndex index = SkillIndex::Build(c);
  SelectOptions options;
  options.min_score = 0.01;
  options.excluded = {"fix-date-parsing"};
  auto sel = Select(c, index, "fix the date parsing", options);
  ASSERT_TRUE(sel);
  for (const auto& p : sel->picked) EXPECT_NE(p.name, "fix-date-parsing");
}

TEST(Select, AnUnknownForcedSkillIsNotFoundNamingTheKnownOnes) {
  Catalog c = MakeCatalog();
  SelectOptions options;
  options.forced = {"nope"};
  auto sel = Select(c, SkillIndex::Build(c), "x", options);
  ASSERT_FALSE(sel);
  EXPECT_EQ(sel.error().code(), StatusCode::kNotFound);
  EXPECT_NE(sel.error().message().find("add-endpoint"), std::string::npos);
}

TEST(Select, NothingMatchingGivesNoBlock) {
  Catalog c = MakeCatalog();
  auto sel = Select(c, SkillIndex::Build(c), "qqq zzz", {});
  ASSERT_TRUE(sel);
  EXPECT_TRUE(sel->picked.empty());
  EXPECT_TRUE(sel->text.empty());
}

}  // namespace
}  // namespace tandem::skills
