#include "tandem/memory/agents_md.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace tandem::memory {
namespace {
namespace fs = std::filesystem;

class AgentsDocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("agents_md_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST_F(AgentsDocTest, RootThenNestedFilesForThePathsInPlay) {
  Write("AGENTS.md", "root rules\n");
  Write("pkg/AGENTS.md", "pkg rules\n");
  Write("other/AGENTS.md", "other rules\n");
  auto doc = LoadAgentsDoc(root_.string(), {"pkg/src/a.cc"});
  ASSERT_TRUE(doc) << doc.error().ToString();
  ASSERT_EQ(doc->files, (std::vector<std::string>{"AGENTS.md", "pkg/AGENTS.md"}));
  EXPECT_LT(doc->text.find("root rules"), doc->text.find("pkg rules"));
  EXPECT_EQ(doc->text.find("other rules"), std::string::npos);
}

TEST_F(AgentsDocTest, OverrideFileWinsAndEmptyFilesAreSkipped) {
  Write("AGENTS.md", "plain\n");
  Write("AGENTS.override.md", "override\n");
  Write("pkg/AGENTS.md", "  \n");
  auto doc = LoadAgentsDoc(root_.string(), {"pkg/x"});
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->files, std::vector<std::string>{"AGENTS.override.md"});
  EXPECT_EQ(doc->text.find("plain"), std::string::npos);
}

TEST_F(AgentsDocTest, HugeFileIsCappedAndMarked) {
  Write("AGENTS.md", std::string(100000, 'x'));
  auto doc = LoadAgentsDoc(root_.string(), {}, 1000);
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->truncated);
  EXPECT_LT(doc->text.size(), 1100u);
}

// Found by fuzz/agents_md_fuzz: the cut could split a UTF-8 character, and
// the notice came on top of the budget.
TEST_F(AgentsDocTest, TruncationKeepsUtf8WholeAndTheNoticeWithinTheBudget) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "\xc3\xa9";  // é
  Write("AGENTS.md", text);
  for (size_t budget : {200u, 201u, 202u, 203u}) {
    auto doc = LoadAgentsDoc(root_.string(), {}, budget);
    ASSERT_TRUE(doc);
    EXPECT_TRUE(doc->truncated);
    EXPECT_LE(doc->text.size(), budget);
    std::string body = doc->text.substr(0, doc->text.find("\n[..."));
    size_t accents = body.size() - std::string("# AGENTS.md\n").size();
    EXPECT_EQ(accents % 2, 0u) << "cut inside a character at budget " << budget;
  }
}

// Found by fuzz/agents_md_fuzz: a path with a component longer than NAME_MAX
// threw std::filesystem::filesystem_error out of LoadAgentsDoc.
TEST_F(AgentsDocTest, UnusablePathIsSkippedNotThrown) {
  Write("AGENTS.md", "root rules\n");
  auto doc = LoadAgentsDoc(root_.string(), {std::string(300, 'x') + "/a.cc"});
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->files, std::vector<std::string>{"AGENTS.md"});
}

// Found by agents_md_fuzz (fuzz/corpus/agents_md/crash-nul-in-path): the
// kernel reads a path only up to a NUL byte, so "pkg/AGENTS.md\0/x" made
// "pkg/AGENTS.md\0" a directory in play and read pkg/AGENTS.md again under
// the name "pkg/AGENTS.md\0/AGENTS.override.md".
TEST_F(AgentsDocTest, PathWithNulByteNamesNoFile) {
  Write("AGENTS.md", "root rules\n");
  Write("pkg/AGENTS.md", "pkg rules\n");
  using namespace std::string_literals;
  auto doc = LoadAgentsDoc(root_.string(), {"pkg/AGENTS.md\0/x"s, "pkg\0/other/a.cc"s});
  ASSERT_TRUE(doc) << doc.error().ToString();
  EXPECT_EQ(doc->files, std::vector<std::string>{"AGENTS.md"});
  EXPECT_EQ(doc->text.find("pkg rules"), std::string::npos);
}

TEST_F(AgentsDocTest, MissingFilesAreNotAnError) {
  auto doc = LoadAgentsDoc(root_.string(), {"a/b/c.txt"});
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->text.empty());
}

}  // namespace
}  // namespace tandem::memory
