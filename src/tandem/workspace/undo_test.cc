// Undo of a whole run and the best-attempt ref.
#include <gtest/gtest.h>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

class UndoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("keep.txt", "keep\n");
    repo_.Write("edit.txt", "original\n");
    repo_.Write("delete.txt", "doomed\n");
    repo_.CommitAll();
    repo_.Write("edit.txt", "user's uncommitted work\n");
    // The run: edits, deletes and creates a file.
    auto ws = Workspace::Open(repo_.root());
    ASSERT_TRUE(ws.has_value());
    ASSERT_TRUE((*ws)->StartRun("agent").has_value());
    repo_.Write("edit.txt", "agent version\n");
    repo_.Remove("delete.txt");
    repo_.Write("created/new.txt", "agent file\n");
    ASSERT_TRUE(
        (*ws)->Checkpoint(TouchedPaths::Only({"edit.txt", "delete.txt", "created/new.txt"}), "step")
            .has_value());
  }

  std::unique_ptr<Workspace> StartUndoRun() {
    auto ws = Workspace::Open(repo_.root());
    EXPECT_TRUE(ws.has_value());
    EXPECT_TRUE((*ws)->StartRun("undo-agent").has_value());
    return std::move(*ws);
  }

  TestRepo repo_;
};

TEST_F(UndoTest, RestoresTheTreeFromBeforeTheRun) {
  auto ws = StartUndoRun();
  auto undone = ws->Undo("agent");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  EXPECT_EQ(repo_.Read("edit.txt"), "user's uncommitted work\n");
  EXPECT_EQ(repo_.Read("delete.txt"), "doomed\n");
  EXPECT_FALSE(repo_.Exists("created"));
  EXPECT_EQ(repo_.Read("keep.txt"), "keep\n");
}

TEST_F(UndoTest, RefusesWhenTheUserEditedAFileAfterTheRun) {
  repo_.Write("edit.txt", "the user kept working\n");
  auto ws = StartUndoRun();
  auto undone = ws->Undo("agent");
  ASSERT_FALSE(undone.has_value());
  EXPECT_EQ(undone.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(undone.error().message().find("edit.txt"), std::string::npos);
  EXPECT_EQ(undone.error().message().find("delete.txt"), std::string::npos);
  // Nothing was touched.
  EXPECT_EQ(repo_.Read("edit.txt"), "the user kept working\n");
  EXPECT_TRUE(repo_.Exists("created/new.txt"));
}

TEST_F(UndoTest, RefusesWhenTheUserRecreatedADeletedFile) {
  repo_.Write("delete.txt", "recreated\n");
  auto ws = StartUndoRun();
  auto undone = ws->Undo("agent");
  ASSERT_FALSE(undone.has_value());
  EXPECT_NE(undone.error().message().find("delete.txt"), std::string::npos);
}

// An undo killed after restoring some paths (crash matrix, kill point
// restore_path_written): the next undo finishes it instead of taking the
// restored paths for the user's edits.
TEST_F(UndoTest, UndoKilledHalfWayIsFinishedByTheNextUndo) {
  repo_.Write("edit.txt", "user's uncommitted work\n");  // restored already
  repo_.Remove("created");                               // restored already
  auto ws = StartUndoRun();
  auto undone = ws->Undo("agent");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  EXPECT_EQ(repo_.Read("edit.txt"), "user's uncommitted work\n");
  EXPECT_EQ(repo_.Read("delete.txt"), "doomed\n");
  EXPECT_FALSE(repo_.Exists("created"));
}

TEST_F(UndoTest, UnknownRunIsNotFound) {
  auto ws = StartUndoRun();
  auto undone = ws->Undo("no-such-run");
  ASSERT_FALSE(undone.has_value());
  EXPECT_EQ(undone.error().code(), StatusCode::kNotFound);
}

TEST_F(UndoTest, RunThatRolledBackEndsAtItsRealState) {
  // A second run whose only step is rolled back: undo has nothing to do and
  // must not refuse, because the rollback was recorded as a checkpoint.
  auto ws = Workspace::Open(repo_.root());
  ASSERT_TRUE(ws.has_value());
  auto start = (*ws)->StartRun("rolled-back");
  ASSERT_TRUE(start.has_value());
  repo_.Write("keep.txt", "bad edit\n");
  ASSERT_TRUE((*ws)->Checkpoint(TouchedPaths::Only({"keep.txt"}), "bad").has_value());
  ASSERT_TRUE((*ws)->Restore(*start, TouchedPaths::Only({"keep.txt"})).has_value());
  ws->reset();

  auto undo_ws = StartUndoRun();
  auto undone = undo_ws->Undo("rolled-back");
  ASSERT_TRUE(undone.has_value()) << undone.error().ToString();
  EXPECT_EQ(repo_.Read("keep.txt"), "keep\n");
}

TEST(BestAttempt, CanBeInspectedAndAppliedWithGit) {
  TestRepo repo;
  repo.Write("src.txt", "v1\n");
  repo.CommitAll();
  auto ws = Workspace::Open(repo.root());
  ASSERT_TRUE(ws.has_value());
  auto start = (*ws)->StartRun("failed-task");
  ASSERT_TRUE(start.has_value());
  repo.Write("src.txt", "v2 almost right\n");
  repo.Write("helper.txt", "helper\n");
  auto attempt = (*ws)->Checkpoint(TouchedPaths::Only({"src.txt", "helper.txt"}), "attempt");
  ASSERT_TRUE(attempt.has_value());
  ASSERT_TRUE((*ws)->KeepBestAttempt(*attempt).ok());
  // The task failed: roll back to the start.
  ASSERT_TRUE((*ws)->Restore(*start, TouchedPaths::Unknown()).has_value());
  ASSERT_EQ(repo.Read("src.txt"), "v1\n");
  ws->reset();

  EXPECT_EQ(repo.Git("rev-parse " + Workspace::BestAttemptRef("failed-task")), attempt->hex + "\n");
  std::string stat = repo.Git("diff --stat HEAD refs/tandem/best/failed-task");
  EXPECT_NE(stat.find("src.txt"), std::string::npos) << stat;
  std::string out;
  ASSERT_EQ(repo.Shell("git diff --binary HEAD refs/tandem/best/failed-task | git apply", &out), 0)
      << out;
  EXPECT_EQ(repo.Read("src.txt"), "v2 almost right\n");
  EXPECT_EQ(repo.Read("helper.txt"), "helper\n");
}

}  // namespace
}  // namespace tandem::workspace
