#include "tandem/memory/agents_md.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
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

// AGENTS.md goes into the prompt from tandem's own process, outside the
// sandbox: a link (committed, or made by a model's command, which may name
// any target) must not carry a file from outside the repository there.
TEST_F(AgentsDocTest, ALinkLeadingOutOfTheRepositoryIsNotRead) {
  const fs::path outside = root_.string() + "-outside";
  std::ofstream(outside) << "SECRET-OUTSIDE-7731\n";
  fs::create_symlink(outside, root_ / "AGENTS.md");
  fs::create_directories(root_ / "pkg");
  fs::create_symlink("/proc/self/environ", root_ / "pkg/AGENTS.md");
  fs::create_directories(root_ / ".git");
  std::ofstream(root_ / ".git/config") << "[core]\n";
  fs::create_directories(root_ / "cfg");
  fs::create_symlink("../.git/config", root_ / "cfg/AGENTS.md");

  auto doc = LoadAgentsDoc(root_.string(), {"pkg/a.cc", "cfg/b.cc"});
  fs::remove(outside);

  ASSERT_TRUE(doc) << doc.error().ToString();
  EXPECT_TRUE(doc->text.empty()) << doc->text;
  EXPECT_TRUE(doc->files.empty());
  ASSERT_EQ(doc->refused.size(), 3u);
  EXPECT_NE(doc->refused[0].find("AGENTS.md leads outside the repository, to " + outside.string()),
            std::string::npos)
      << doc->refused[0];
  EXPECT_NE(doc->refused[1].find("leads outside the repository"), std::string::npos);
}

TEST_F(AgentsDocTest, ALinkInsideTheRepositoryIsFollowed) {
  Write("docs/agents.md", "shared rules\n");
  fs::create_symlink("docs/agents.md", root_ / "AGENTS.md");
  auto doc = LoadAgentsDoc(root_.string(), {});
  ASSERT_TRUE(doc) << doc.error().ToString();
  EXPECT_NE(doc->text.find("shared rules"), std::string::npos);
  EXPECT_TRUE(doc->refused.empty());
}

// A FIFO would block the read forever (and a device such as /dev/zero never
// end): both are refused without reading.
TEST_F(AgentsDocTest, AFifoOrADeviceIsRefusedWithoutReading) {
  ASSERT_EQ(::mkfifo((root_ / "AGENTS.md").c_str(), 0600), 0);
  fs::create_directories(root_ / "pkg");
  fs::create_symlink("/dev/zero", root_ / "pkg/AGENTS.md");
  auto doc = LoadAgentsDoc(root_.string(), {"pkg/a.cc"});
  ASSERT_TRUE(doc) << doc.error().ToString();
  EXPECT_TRUE(doc->text.empty());
  ASSERT_EQ(doc->refused.size(), 2u);
  EXPECT_NE(doc->refused[0].find("AGENTS.md is not a regular file"), std::string::npos)
      << doc->refused[0];
}

}  // namespace
}  // namespace tandem::memory
