// Git-ignored files tandem protects: restored like any other, kept out of
// checkpoint trees and patches; reproducible build output is exempt.
#include <gtest/gtest.h>

#include "tandem/workspace/ignored_files.h"
#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

class IgnoredFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write(".gitignore", ".env\n*.sqlite\nbuild/\ndata/\n*.tmp\n");
    repo_.Write("a.txt", "alpha\n");
    repo_.CommitAll();
    repo_.Write(".env", "TOKEN=secret-value\n");
    repo_.Write("app.sqlite", std::string("SQLite\0\xff\x01rows", 13));
    repo_.Write("data/cache/state.bin", std::string("\0\0\x7f", 3));
    repo_.Write("build/out.o", "object\n");
    repo_.Write("x.tmp", "scratch\n");
  }

  std::unique_ptr<Workspace> Start(const std::string& run = "run-1") {
    auto ws = std::move(*Workspace::Open(repo_.root()));
    auto start = ws->StartRun(run);
    EXPECT_TRUE(start.has_value()) << start.error().ToString();
    return ws;
  }

  void DeleteEverything() {
    repo_.Remove(".env");
    repo_.Remove("app.sqlite");
    repo_.Remove("data");
    repo_.Remove("build");
  }

  void ExpectProtectedBack() {
    EXPECT_EQ(repo_.Read(".env"), "TOKEN=secret-value\n");
    EXPECT_TRUE(repo_.Read("app.sqlite") == std::string("SQLite\0\xff\x01rows", 13));
    EXPECT_TRUE(repo_.Read("data/cache/state.bin") == std::string("\0\0\x7f", 3));
  }

  TestRepo repo_;
};

TEST_F(IgnoredFilesTest, DeletingProtectedIgnoredFilesShowsInTheStepDiff) {
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  DeleteEverything();
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "rm");
  ASSERT_TRUE(after.has_value());
  auto changes = ws->Diff(before, *after);
  ASSERT_TRUE(changes.has_value());
  std::vector<std::string> deleted;
  for (const FileChange& c : *changes) {
    EXPECT_TRUE(c.ignored) << c.path;
    if (c.kind == ChangeKind::kDeleted) deleted.push_back(c.path);
  }
  EXPECT_EQ(deleted, (std::vector<std::string>{".env", "app.sqlite", "data/cache/state.bin"}));
}

TEST_F(IgnoredFilesTest, RollbackOfTheStepsChangedPathsRestoresThem) {
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  DeleteEverything();
  repo_.Write("new.sqlite", "made by the step\n");
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "rm");
  ASSERT_TRUE(after.has_value());
  auto changes = ws->Diff(before, *after);
  ASSERT_TRUE(changes.has_value());
  std::vector<std::string> paths;
  for (const FileChange& c : *changes) paths.push_back(c.path);
  auto restored = ws->Restore(before, TouchedPaths::Only(paths));
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  ExpectProtectedBack();
  EXPECT_FALSE(repo_.Exists("build/out.o"));  // exempt: build output
  EXPECT_FALSE(repo_.Exists("new.sqlite"));
  auto left = ws->Diff(before, *restored);
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->empty());
}

TEST_F(IgnoredFilesTest, RestoreOfAnUnknownStepBringsBackAnOverwrittenIgnoredFile) {
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write(".env", "TOKEN=clobbered\n");
  repo_.Write("data/cache/state.bin", "clobbered");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "clobber").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  ExpectProtectedBack();
}

TEST_F(IgnoredFilesTest, UndoRestoresIgnoredFilesTheRunDeleted) {
  {
    auto ws = Start("agent");
    DeleteEverything();
    ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  }
  auto ws = Start("undo-agent");
  auto undone = ws->Undo("agent");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  ExpectProtectedBack();
}

TEST_F(IgnoredFilesTest, ChangesInAProtectedIgnoredDirectoryNeedNoRescan) {
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  int64_t scans = ws->full_scans();
  repo_.Remove("data/cache/state.bin");
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "rm");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(ws->full_scans(), scans);  // the watch saw it
  auto changes = ws->Diff(before, *after);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].path, "data/cache/state.bin");
}

TEST_F(IgnoredFilesTest, IgnoredContentStaysOutOfCheckpointTreesAndPatches) {
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write(".env", "TOKEN=another-secret\n");
  repo_.Write("a.txt", "beta\n");
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "edit");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(repo_.Git("ls-tree -r --name-only " + after->hex), ".gitignore\na.txt\n");
  auto patch = ws->Patch(before, *after);
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ(patch->find("secret"), std::string::npos) << *patch;
  EXPECT_NE(patch->find("beta"), std::string::npos);
}

TEST_F(IgnoredFilesTest, GitConfigAddsExemptPatterns) {
  repo_.Git("config --add tandem.unprotected '*.tmp'");
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  repo_.Remove("x.tmp");
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "rm");
  ASSERT_TRUE(after.has_value());
  auto changes = ws->Diff(before, *after);
  ASSERT_TRUE(changes.has_value());
  EXPECT_TRUE(changes->empty());
}

TEST(Protection, DefaultsExemptBuildOutputButNotUserData) {
  internal::Protection rules;
  EXPECT_TRUE(rules.Exempt("build/x/y.txt", false));
  EXPECT_TRUE(rules.Exempt("web/node_modules", true));
  EXPECT_TRUE(rules.Exempt("src/a.o", false));
  EXPECT_TRUE(rules.Exempt("pkg/__pycache__/m.pyc", false));
  EXPECT_FALSE(rules.Exempt(".env", false));
  EXPECT_FALSE(rules.Exempt("app.sqlite", false));
  EXPECT_FALSE(rules.Exempt("data/build.db", false));  // a file named like a directory pattern
}

}  // namespace
}  // namespace tandem::workspace
