// Empty directories: git trees cannot hold them, so checkpoints record them
// beside the tree; a rollback or an undo gives back the ones a step removed
// and removes the ones it made.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tandem/workspace/empty_dirs.h"
#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

class EmptyDirsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write(".gitignore", "data/\nbuild/\n");
    repo_.Write("src/a.txt", "alpha\n");
  }

  // The directories the tests remove: empty ones, a chain of empty ones, one
  // in a git-ignored directory, one beside a file.
  void MakeEmptyDirs() {
    Run("mkdir -p empty nested/a/b nested/c data/uploads src/spool build/obj");
  }

  std::unique_ptr<Workspace> Start(const std::string& run = "run-1") {
    auto ws = std::move(*Workspace::Open(repo_.root()));
    auto start = ws->StartRun(run);
    EXPECT_TRUE(start.has_value()) << start.error().ToString();
    return ws;
  }

  void Run(const std::string& script) {
    std::string output;
    ASSERT_EQ(repo_.Shell(script, &output), 0) << output;
  }

  bool IsDir(const std::string& path) {
    struct stat st{};
    return lstat((repo_.root() / path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  void ExpectEmptyDirsBack() {
    for (const char* dir : {"empty", "nested/a/b", "nested/c", "data/uploads", "src/spool"}) {
      EXPECT_TRUE(IsDir(dir)) << dir;
    }
    EXPECT_EQ(repo_.Read("src/a.txt"), "alpha\n");
  }

  TestRepo repo_;
};

TEST_F(EmptyDirsTest, RollbackOfACommandRestoresTheEmptyDirectoriesItRemoved) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rmdir empty src/spool data/uploads && rm -r nested");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  auto restored = ws->Restore(before, TouchedPaths::Unknown());
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  ExpectEmptyDirsBack();
}

// A step's rollback restores the paths its diff names (files only): the
// empty directories it removed come back all the same.
TEST_F(EmptyDirsTest, RollbackOfTheStepsChangedFilesRestoresThem) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rmdir empty src/spool data/uploads && rm -r nested && rm src/a.txt");
  auto after = ws->Checkpoint(TouchedPaths::Unknown(), "rm");
  ASSERT_TRUE(after.has_value());
  auto changes = ws->Diff(before, *after);
  ASSERT_TRUE(changes.has_value());
  std::vector<std::string> paths;
  for (const FileChange& c : *changes) paths.push_back(c.path);
  EXPECT_EQ(paths, std::vector<std::string>{"src/a.txt"});
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Only(paths)).has_value());
  ExpectEmptyDirsBack();
}

TEST_F(EmptyDirsTest, RollbackBeforeTheStepsCheckpointRestoresThem) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rmdir empty src/spool data/uploads && rm -r nested");
  auto restored = ws->Restore(before, TouchedPaths::Unknown());  // an interrupted step
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  ExpectEmptyDirsBack();
}

TEST_F(EmptyDirsTest, RollbackInARepositoryWithoutCommitsRestoresThem) {
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rmdir empty src/spool data/uploads && rm -r nested");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  ExpectEmptyDirsBack();
}

TEST_F(EmptyDirsTest, RollbackAfterARescanRestoresThem) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rmdir empty src/spool data/uploads && rm -r nested");
  ws->DistrustWatch();
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  ExpectEmptyDirsBack();
}

TEST_F(EmptyDirsTest, RollbackRemovesTheEmptyDirectoriesAStepMade) {
  repo_.CommitAll();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("mkdir -p made/deep/er src/made");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "mkdir").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_FALSE(repo_.Exists("made"));
  EXPECT_FALSE(repo_.Exists("src/made"));
  EXPECT_TRUE(IsDir("src"));
}

TEST_F(EmptyDirsTest, RollbackOfAFileWrittenIntoAnEmptyDirectoryKeepsTheDirectory) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write("nested/a/b/new.txt", "written by a tool\n");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Only({"nested/a/b/new.txt"}), "write").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Only({"nested/a/b/new.txt"})).has_value());
  EXPECT_FALSE(repo_.Exists("nested/a/b/new.txt"));
  EXPECT_TRUE(IsDir("nested/a/b"));
}

TEST_F(EmptyDirsTest, ADirectoryNoLongerEmptyIsNotRecreatedEmptyNorEmptied) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  Run("echo kept > empty/file.txt");
  auto filled = ws->Checkpoint(TouchedPaths::Unknown(), "fill");
  ASSERT_TRUE(filled.has_value());
  Run("rm -r empty");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  ASSERT_TRUE(ws->Restore(*filled, TouchedPaths::Unknown()).has_value());
  EXPECT_EQ(repo_.Read("empty/file.txt"), "kept\n");
}

TEST_F(EmptyDirsTest, EmptyDirectoriesInBuildOutputAreExempt) {
  repo_.CommitAll();
  MakeEmptyDirs();
  auto ws = Start();
  CheckpointId before = *ws->last_checkpoint();
  Run("rm -r build");
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rm").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_FALSE(repo_.Exists("build"));
}

TEST_F(EmptyDirsTest, UndoRestoresRemovedEmptyDirectoriesAndRemovesMadeOnes) {
  repo_.CommitAll();
  MakeEmptyDirs();
  {
    auto ws = Start("agent");
    Run("rmdir empty src/spool data/uploads && rm -r nested && mkdir -p made/deep");
    ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "step").has_value());
  }
  auto ws = Start("undo");
  auto undone = ws->Undo("agent");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  ExpectEmptyDirsBack();
  EXPECT_FALSE(repo_.Exists("made"));
}

TEST_F(EmptyDirsTest, UndoKeepsADirectoryTheRunMadeOnceTheUserFilledIt) {
  repo_.CommitAll();
  {
    auto ws = Start("agent");
    Run("mkdir made");
    ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "step").has_value());
  }
  repo_.Write("made/mine.txt", "the user's\n");
  auto ws = Start("undo");
  ASSERT_TRUE(ws->Undo("agent").has_value());
  EXPECT_EQ(repo_.Read("made/mine.txt"), "the user's\n");
}

TEST_F(EmptyDirsTest, AResumedRunRestoresWhatItsFirstProcessRecorded) {
  repo_.CommitAll();
  MakeEmptyDirs();
  CheckpointId before;
  {
    auto ws = Start();
    before = *ws->last_checkpoint();
  }
  Run("rm -r nested");
  auto ws = Start();  // the same run id: resumed
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_TRUE(IsDir("nested/a/b"));
}

TEST(EmptyDirsEncoding, RoundTripsNamesWithNewlinesAndBackslashes) {
  std::set<std::string> dirs = {"plain", "a\nb", "back\\slash\\n", "x/Tandem-Empty-Dir: y"};
  std::string message = "tandem protected ignored files\n\nTandem-Run: r\n" +
                        internal::EmptyDirs::Encode(dirs);
  EXPECT_EQ(internal::EmptyDirs::Decode(message), dirs);
}

}  // namespace
}  // namespace tandem::workspace
