// Three-way merges of checkpoints from two agents' worktrees into the
// integrated checkout, checked against the files on disk.
#include "tandem/workspace/tree_merge.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"
#include "tandem/workspace/worktree.h"

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;
using testing::TestRepo;

void WriteIn(const fs::path& root, const std::string& path, const std::string& content) {
  fs::create_directories((root / path).parent_path());
  std::ofstream(root / path, std::ios::binary | std::ios::trunc) << content;
}

std::string ReadIn(const fs::path& root, const std::string& path) {
  std::ifstream f(root / path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The integrated checkout (its own Workspace, run "r") and, per agent, a
// worktree at the integrated checkpoint with a Workspace on run "r.<agent>".
class TreeMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("a.txt", "a1\na2\na3\n");
    repo_.Write("b.txt", "b1\n");
    repo_.Write("plan.md", "plan\n");
    repo_.CommitAll("first");
    auto ws = Workspace::Open(repo_.root());
    ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
    main_ = std::move(*ws);
    auto base = main_->StartRun("r");
    ASSERT_TRUE(base.has_value()) << base.error().ToString();
    base_ = *base;
  }

  struct Agent {
    Worktree tree;
    std::unique_ptr<Workspace> ws;
  };

  Agent StartAgent(const std::string& name) {
    auto tree = Worktree::Create(repo_.root(), "r-" + name, *main_->last_checkpoint());
    EXPECT_TRUE(tree.has_value()) << tree.error().ToString();
    auto ws = Workspace::Open(tree->root());
    EXPECT_TRUE(ws.has_value()) << ws.error().ToString();
    auto started = (*ws)->StartRun("r." + name);
    EXPECT_TRUE(started.has_value()) << started.error().ToString();
    return Agent{std::move(*tree), std::move(*ws)};
  }

  CheckpointId Edit(Workspace& ws, const std::string& path, const std::string& content) {
    WriteIn(ws.root(), path, content);
    auto c = ws.Checkpoint(TouchedPaths::Only({path}), "edit");
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return *c;
  }

  // Merges the agent's last checkpoint into the checkout as the runner does.
  TreeMerge MergeAgent(const Agent& agent) {
    auto merge = MergeCheckpoints(repo_.root(), agent.tree.checkpoint(), *main_->last_checkpoint(),
                                  *agent.ws->last_checkpoint(), {"plan.md"});
    EXPECT_TRUE(merge.has_value()) << merge.error().ToString();
    if (merge && merge->merged) {
      auto applied = main_->Restore(*merge->merged, TouchedPaths::Only(merge->changed));
      EXPECT_TRUE(applied.has_value()) << applied.error().ToString();
    }
    return merge ? *merge : TreeMerge{};
  }

  TestRepo repo_;
  std::unique_ptr<Workspace> main_;
  CheckpointId base_;
};

TEST_F(TreeMergeTest, DisjointEditsOfTwoAgentsBothReachTheCheckout) {
  Agent one = StartAgent("one");
  Agent two = StartAgent("two");
  Edit(*one.ws, "a.txt", "a1\na2 by one\na3\n");
  Edit(*two.ws, "b.txt", "b1 by two\n");
  Edit(*two.ws, "c/new.txt", "new\n");

  TreeMerge first = MergeAgent(one);
  EXPECT_TRUE(first.conflicts.empty());
  EXPECT_EQ(first.changed, std::vector<std::string>{"a.txt"});
  TreeMerge second = MergeAgent(two);
  EXPECT_TRUE(second.conflicts.empty());
  EXPECT_EQ(second.changed, (std::vector<std::string>{"b.txt", "c/new.txt"}));

  EXPECT_EQ(repo_.Read("a.txt"), "a1\na2 by one\na3\n");
  EXPECT_EQ(repo_.Read("b.txt"), "b1 by two\n");
  EXPECT_EQ(repo_.Read("c/new.txt"), "new\n");
  // The checkout's run recorded the result.
  auto diff = main_->DiffToWorkingTree(*main_->last_checkpoint(), TouchedPaths::Unknown());
  ASSERT_TRUE(diff.has_value());
  EXPECT_TRUE(diff->empty());
}

TEST_F(TreeMergeTest, EditsOfDifferentLinesOfOneFileMerge) {
  Agent one = StartAgent("one");
  Agent two = StartAgent("two");
  Edit(*one.ws, "a.txt", "a1 by one\na2\na3\n");
  Edit(*two.ws, "a.txt", "a1\na2\na3 by two\n");
  EXPECT_TRUE(MergeAgent(one).conflicts.empty());
  EXPECT_TRUE(MergeAgent(two).conflicts.empty());
  EXPECT_EQ(repo_.Read("a.txt"), "a1 by one\na2\na3 by two\n");
}

TEST_F(TreeMergeTest, ConflictingEditsReportThePathAndLeaveTheCheckoutAlone) {
  Agent one = StartAgent("one");
  Agent two = StartAgent("two");
  Edit(*one.ws, "a.txt", "a1\nONE\na3\n");
  Edit(*two.ws, "a.txt", "a1\nTWO\na3\n");
  Edit(*two.ws, "b.txt", "b1 by two\n");
  EXPECT_TRUE(MergeAgent(one).conflicts.empty());
  CheckpointId before = *main_->last_checkpoint();
  TreeMerge second = MergeAgent(two);
  EXPECT_FALSE(second.merged.has_value());
  EXPECT_EQ(second.conflicts, std::vector<std::string>{"a.txt"});
  EXPECT_EQ(main_->last_checkpoint()->hex, before.hex);
  EXPECT_EQ(repo_.Read("a.txt"), "a1\nONE\na3\n");
  EXPECT_EQ(repo_.Read("b.txt"), "b1\n");
}

TEST_F(TreeMergeTest, KeepOursPathsComeFromTheCheckoutEvenWhenBothChangedThem) {
  Agent one = StartAgent("one");
  Edit(*one.ws, "plan.md", "plan as the agent left it\n");
  Edit(*one.ws, "b.txt", "b1 by one\n");
  Edit(*main_, "plan.md", "plan with [~] by the scheduler\n");
  TreeMerge merge = MergeAgent(one);
  EXPECT_TRUE(merge.conflicts.empty());
  EXPECT_EQ(merge.changed, std::vector<std::string>{"b.txt"});
  EXPECT_EQ(repo_.Read("plan.md"), "plan with [~] by the scheduler\n");
}

TEST_F(TreeMergeTest, AgentsOfOneRunKeepCheckpointChainsOfTheirOwn) {
  Agent one = StartAgent("one");
  Agent two = StartAgent("two");
  Edit(*one.ws, "a.txt", "one\n");
  Edit(*two.ws, "b.txt", "two\n");
  Edit(*two.ws, "b.txt", "two again\n");
  auto main_chain = main_->RunCheckpoints("r");
  auto one_chain = main_->RunCheckpoints("r.one");
  auto two_chain = main_->RunCheckpoints("r.two");
  ASSERT_TRUE(main_chain && one_chain && two_chain);
  EXPECT_EQ(main_chain->size(), 1u);  // checkpoint 0 only
  EXPECT_EQ(one_chain->size(), 2u);
  EXPECT_EQ(two_chain->size(), 3u);
  EXPECT_EQ(one_chain->back().hex, one.ws->last_checkpoint()->hex);
  EXPECT_EQ(two_chain->back().hex, two.ws->last_checkpoint()->hex);
  EXPECT_EQ(ReadIn(one.tree.root(), "b.txt"), "b1\n");  // worktrees stay apart
}

TEST_F(TreeMergeTest, UnknownCheckpointIsAnError) {
  CheckpointId bogus{std::string(40, 'a')};
  auto merge = MergeCheckpoints(repo_.root(), base_, base_, bogus, {});
  EXPECT_FALSE(merge.has_value());
}

}  // namespace
}  // namespace tandem::workspace
