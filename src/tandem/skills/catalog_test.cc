#include "tandem/skills/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tandem::skills {
namespace {
namespace fs = std::filesystem;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("skills_catalog_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(repo());
    fs::create_directories(home());
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path repo() const { return root_ / "repo"; }
  fs::path home() const { return root_ / "home"; }
  static void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string SkillText(const std::string& name, const std::string& description) {
    return "---\nname: " + name + "\ndescription: " + description + "\n---\nbody of " + name + "\n";
  }
  Catalog Discover() { return DiscoverSkills({repo().string(), ".agents/skills", home().string()}); }
  fs::path root_;
};

TEST_F(CatalogTest, FindsSkillsInTheRepositoryClaudeFolderAndHome) {
  Write(repo() / ".agents/skills/one/SKILL.md", SkillText("one", "first"));
  Write(repo() / ".claude/skills/two/SKILL.md", SkillText("two", "second"));
  Write(home() / ".agents/skills/three/SKILL.md", SkillText("three", "third"));
  Catalog c = Discover();
  EXPECT_TRUE(c.problems.empty()) << c.problems.front();
  ASSERT_EQ(c.skills.size(), 3u);
  EXPECT_EQ(c.Find("one")->origin, SkillOrigin::kRepo);
  EXPECT_EQ(c.Find("one")->shown, ".agents/skills/one/SKILL.md");
  EXPECT_EQ(c.Find("two")->origin, SkillOrigin::kClaude);
  EXPECT_EQ(c.Find("three")->origin, SkillOrigin::kUser);
  EXPECT_EQ(c.Find("three")->shown, "~/.agents/skills/three/SKILL.md");
  EXPECT_FALSE(c.Find("one")->captured());
}

TEST_F(CatalogTest, TheRepositorysSkillWinsOverTheSameNameElsewhere) {
  Write(repo() / ".agents/skills/same/SKILL.md", SkillText("same", "repo's"));
  Write(home() / ".agents/skills/same/SKILL.md", SkillText("same", "home's"));
  Catalog c = Discover();
  ASSERT_EQ(c.skills.size(), 1u);
  EXPECT_EQ(c.skills[0].skill.description, "repo's");
}

TEST_F(CatalogTest, AMalformedSkillIsReportedWithFileAndLineAndTheOthersStillLoad) {
  Write(repo() / ".agents/skills/bad/SKILL.md", "---\nname: bad\ndescription: d\nname: x\n---\n");
  Write(repo() / ".agents/skills/good/SKILL.md", SkillText("good", "fine"));
  Catalog c = Discover();
  ASSERT_EQ(c.skills.size(), 1u);
  EXPECT_EQ(c.skills[0].skill.name, "good");
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].rfind(".agents/skills/bad/SKILL.md:4: duplicate key 'name'", 0), 0u)
      << c.problems[0];
}

TEST_F(CatalogTest, ASkillFileLinkedOutOfTheRepositoryIsRefused) {
  Write(root_ / "secret.txt", "---\nname: leak\ndescription: the secret\n---\nTOKEN\n");
  fs::create_directories(repo() / ".agents/skills/leak");
  fs::create_symlink(root_ / "secret.txt", repo() / ".agents/skills/leak/SKILL.md");
  Catalog c = Discover();
  EXPECT_TRUE(c.skills.empty());
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_NE(c.problems[0].find(".agents/skills/leak/SKILL.md:1:"), std::string::npos) << c.problems[0];
}

TEST_F(CatalogTest, FoldersWithoutASkillAreIgnoredAndNoRootsFindNothing) {
  fs::create_directories(repo() / ".agents/skills/empty");
  Catalog c = Discover();
  EXPECT_TRUE(c.skills.empty());
  EXPECT_TRUE(c.problems.empty());
  EXPECT_TRUE(DiscoverSkills({}).skills.empty());
}

}  // namespace
}  // namespace tandem::skills
