// Per-file diffs between checkpoints and against the working tree.
#include <gtest/gtest.h>

#include <algorithm>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

const FileChange* Find(const std::vector<FileChange>& changes, const std::string& path) {
  auto it = std::find_if(changes.begin(), changes.end(),
                         [&](const FileChange& c) { return c.path == path; });
  return it == changes.end() ? nullptr : &*it;
}

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("lines.txt", "one\ntwo\nthree\nfour\n");
    repo_.Write("gone.txt", "a\nb\n");
    repo_.Write("script.sh", "#!/bin/sh\n");
    repo_.CommitAll();
    auto ws = Workspace::Open(repo_.root());
    ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
    ws_ = std::move(*ws);
    auto start = ws_->StartRun("diff");
    ASSERT_TRUE(start.has_value()) << start.error().ToString();
    before_ = *start;
  }
  TestRepo repo_;
  std::unique_ptr<Workspace> ws_;
  CheckpointId before_;
};

TEST_F(DiffTest, CountsAddedAndRemovedLinesPerFile) {
  repo_.Write("lines.txt", "one\n2\nthree\nfour\nfive\nsix\n");  // 1 replaced, 2 appended
  repo_.Remove("gone.txt");
  repo_.Write("added.txt", "x\ny\nz\n");
  repo_.Chmod("script.sh", 0755);
  auto after = ws_->Checkpoint(
      TouchedPaths::Only({"lines.txt", "gone.txt", "added.txt", "script.sh"}), "edit");
  ASSERT_TRUE(after.has_value());
  auto changes = ws_->Diff(before_, *after);
  ASSERT_TRUE(changes.has_value()) << changes.error().ToString();
  ASSERT_EQ(changes->size(), 4u);

  const FileChange* lines = Find(*changes, "lines.txt");
  ASSERT_NE(lines, nullptr);
  EXPECT_EQ(lines->kind, ChangeKind::kModified);
  EXPECT_EQ(lines->lines_added, 3);
  EXPECT_EQ(lines->lines_removed, 1);

  const FileChange* gone = Find(*changes, "gone.txt");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->kind, ChangeKind::kDeleted);
  EXPECT_EQ(gone->lines_removed, 2);
  EXPECT_EQ(gone->new_mode, EntryMode::kAbsent);

  const FileChange* added = Find(*changes, "added.txt");
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->kind, ChangeKind::kAdded);
  EXPECT_EQ(added->lines_added, 3);

  const FileChange* script = Find(*changes, "script.sh");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->kind, ChangeKind::kModeChanged);
  EXPECT_EQ(script->old_mode, EntryMode::kRegular);
  EXPECT_EQ(script->new_mode, EntryMode::kExecutable);
}

TEST_F(DiffTest, BinaryFilesAreFlaggedWithoutLineCounts) {
  repo_.Write("blob.bin", std::string("\x00\x01\x02\xff\n\x00zz", 8));
  auto after = ws_->Checkpoint(TouchedPaths::Only({"blob.bin"}), "binary");
  ASSERT_TRUE(after.has_value());
  auto changes = ws_->Diff(before_, *after);
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_TRUE((*changes)[0].binary);
  EXPECT_EQ((*changes)[0].kind, ChangeKind::kAdded);
  EXPECT_EQ((*changes)[0].lines_added, 0);
}

TEST_F(DiffTest, DiffToWorkingTreeSeesUncheckpointedEdits) {
  repo_.Write("lines.txt", "one\n");
  auto known = ws_->DiffToWorkingTree(before_, TouchedPaths::Only({"lines.txt"}));
  ASSERT_TRUE(known.has_value());
  ASSERT_EQ(known->size(), 1u);
  EXPECT_EQ((*known)[0].lines_removed, 3);

  ASSERT_EQ(repo_.Shell("echo hi > shell.txt"), 0);
  auto unknown = ws_->DiffToWorkingTree(before_, TouchedPaths::Unknown());
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->size(), 2u);
  EXPECT_NE(Find(*unknown, "shell.txt"), nullptr);
}

TEST_F(DiffTest, DirectoryReplacedByFileListsEveryFile) {
  repo_.Write("pkg/a.txt", "a\n");
  repo_.Write("pkg/sub/b.txt", "b\n");
  auto with_dir = ws_->Checkpoint(TouchedPaths::Only({"pkg"}), "dir");
  ASSERT_TRUE(with_dir.has_value());
  repo_.Remove("pkg");
  repo_.Write("pkg", "now a file\n");
  auto with_file = ws_->Checkpoint(TouchedPaths::Only({"pkg"}), "file");
  ASSERT_TRUE(with_file.has_value()) << with_file.error().ToString();
  auto changes = ws_->Diff(*with_dir, *with_file);
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].path, "pkg");
  EXPECT_EQ((*changes)[0].kind, ChangeKind::kAdded);
  EXPECT_EQ((*changes)[1].path, "pkg/a.txt");
  EXPECT_EQ((*changes)[1].kind, ChangeKind::kDeleted);
  EXPECT_EQ((*changes)[2].path, "pkg/sub/b.txt");
  EXPECT_EQ((*changes)[2].kind, ChangeKind::kDeleted);
}

TEST_F(DiffTest, PatchIsAUnifiedDiff) {
  repo_.Write("lines.txt", "one\ntwo\nTHREE\nfour\n");
  auto after = ws_->Checkpoint(TouchedPaths::Only({"lines.txt"}), "edit");
  ASSERT_TRUE(after.has_value());
  auto patch = ws_->Patch(before_, *after);
  ASSERT_TRUE(patch.has_value());
  EXPECT_NE(patch->find("-three\n+THREE\n"), std::string::npos) << *patch;
  EXPECT_NE(patch->find("diff --git a/lines.txt b/lines.txt"), std::string::npos);
}

}  // namespace
}  // namespace tandem::workspace
