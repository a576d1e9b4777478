// Every restore path writes back exactly the bytes, mode and type that were
// checkpointed: binary, empty, huge, executable, symlink, non-UTF-8-named and
// CRLF files, with .gitattributes filters that would alter them ignored.
#include <gtest/gtest.h>

#include <random>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

// The files every test restores, by path and content.
struct Sample {
  std::string path;
  std::string content;
};

std::vector<Sample> Samples() {
  std::string binary = RandomBytes(2048, 1);
  binary[10] = '\0';  // certainly binary to git
  return {
      {"image.bin", binary},
      {"empty.txt", ""},
      {"huge.dat", RandomBytes(6 << 20, 2)},
      {"crlf.txt", "one\r\ntwo\r\n"},
      {"mixed.txt", "lf\ncrlf\r\nlone cr\r"},
      {std::string("caf\xe9-latin1.txt"), "latin-1 name\n"},
      {"ident.c", "/* $Id$ */\n"},
  };
}

class RestoreBytesTest : public ::testing::TestWithParam<bool> {
 protected:
  // Parameter: whether the samples are committed (tracked) or untracked.
  void SetUp() override {
    // Attributes and settings that would convert bytes if tandem let them.
    repo_.Git("config core.autocrlf input");
    repo_.Write(".gitattributes", "*.txt text eol=lf\n*.c ident\n");
    repo_.Write("README", "readme\n");
    repo_.CommitAll("attributes");
    for (const Sample& s : Samples()) repo_.Write(s.path, s.content);
    repo_.Write("tool.sh", "#!/bin/sh\necho hi\n");
    repo_.Chmod("tool.sh", 0755);
    repo_.Symlink("image.bin", "link");
    if (GetParam()) {
      repo_.Git("add -A");
      repo_.Git("commit -q -m samples");
      // git converted the committed blobs; the working tree keeps the bytes.
      for (const Sample& s : Samples()) ASSERT_EQ(repo_.Read(s.path), s.content);
    }
  }

  // Wrecks every sample the way a command could: deletes, truncates, turns
  // a link into a file and an executable into a plain file.
  void Wreck() {
    for (const Sample& s : Samples()) repo_.Remove(s.path);
    repo_.Write("crlf.txt", "rewritten\n");
    repo_.Remove("tool.sh");
    repo_.Write("tool.sh", "plain\n");
    repo_.Remove("link");
    repo_.Write("link", "not a link\n");
  }

  void ExpectAllBack() {
    for (const Sample& s : Samples()) {
      std::string got = repo_.Read(s.path);
      EXPECT_EQ(got.size(), s.content.size()) << s.path;
      EXPECT_TRUE(got == s.content) << s.path << " differs";
    }
    EXPECT_EQ(repo_.Read("tool.sh"), "#!/bin/sh\necho hi\n");
    EXPECT_TRUE(repo_.IsExecutable("tool.sh"));
    EXPECT_TRUE(repo_.IsSymlink("link"));
    EXPECT_EQ(repo_.LinkTarget("link"), "image.bin");
  }

  std::vector<std::string> AllPaths() {
    std::vector<std::string> paths = {"tool.sh", "link"};
    for (const Sample& s : Samples()) paths.push_back(s.path);
    return paths;
  }

  TestRepo repo_;
};

TEST_P(RestoreBytesTest, RestoreOfAnUnknownStepWritesTheCheckpointedBytes) {
  auto ws = std::move(*Workspace::Open(repo_.root()));
  auto before = ws->StartRun("run-1");
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  Wreck();
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "wreck").has_value());
  auto restored = ws->Restore(*before, TouchedPaths::Unknown());
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  ExpectAllBack();
}

TEST_P(RestoreBytesTest, RestoreOfKnownPathsWritesTheCheckpointedBytes) {
  auto ws = std::move(*Workspace::Open(repo_.root()));
  auto before = ws->StartRun("run-1");
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  Wreck();
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Only(AllPaths()), "wreck").has_value());
  auto restored = ws->Restore(*before, TouchedPaths::Only(AllPaths()));
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  ExpectAllBack();
}

TEST_P(RestoreBytesTest, UndoWritesTheCheckpointedBytes) {
  {
    auto ws = std::move(*Workspace::Open(repo_.root()));
    ASSERT_TRUE(ws->StartRun("agent").has_value());
    Wreck();
    ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "wreck").has_value());
  }
  auto ws = std::move(*Workspace::Open(repo_.root()));
  ASSERT_TRUE(ws->StartRun("undo-agent").has_value());
  auto undone = ws->Undo("agent");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  ExpectAllBack();
}

TEST_P(RestoreBytesTest, CheckpointsStoreTheWorkingTreeBytesUnfiltered) {
  auto ws = std::move(*Workspace::Open(repo_.root()));
  auto start = ws->StartRun("run-1");
  ASSERT_TRUE(start.has_value());
  for (const Sample& s : Samples()) {
    std::string blob = repo_.Git("cat-file blob " + start->hex + ":'" + s.path + "'");
    EXPECT_TRUE(blob == s.content) << s.path << " stored altered";
  }
}

TEST_P(RestoreBytesTest, AFileCreatedByAStepComesBackByteForByte) {
  auto ws = std::move(*Workspace::Open(repo_.root()));
  ASSERT_TRUE(ws->StartRun("run-1").has_value());
  std::string made = RandomBytes(3000, 7);
  repo_.Write("out/made.bin", made);
  auto with = ws->Checkpoint(TouchedPaths::Unknown(), "make");
  ASSERT_TRUE(with.has_value());
  repo_.Remove("out");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "remove").has_value());
  ASSERT_TRUE(ws->Restore(*with, TouchedPaths::Unknown()).has_value());
  EXPECT_TRUE(repo_.Read("out/made.bin") == made);
}

INSTANTIATE_TEST_SUITE_P(TrackedAndUntracked, RestoreBytesTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tracked" : "Untracked"; });

}  // namespace
}  // namespace tandem::workspace
