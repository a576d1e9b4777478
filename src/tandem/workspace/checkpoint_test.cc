// Checkpoint and restore behavior of Workspace against real git repositories.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

std::unique_ptr<Workspace> OpenAndStart(const TestRepo& repo, const std::string& run = "run-1") {
  auto ws = Workspace::Open(repo.root());
  EXPECT_TRUE(ws.has_value()) << ws.error().ToString();
  auto start = (*ws)->StartRun(run);
  EXPECT_TRUE(start.has_value()) << start.error().ToString();
  return std::move(*ws);
}

TouchedPaths Only(std::vector<std::string> paths) { return TouchedPaths::Only(std::move(paths)); }

// The tree of a checkpoint as `git ls-tree -r` prints it (mode, id, path).
std::string LsTree(const TestRepo& repo, const CheckpointId& id) {
  return repo.Git("ls-tree -r " + id.hex);
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("a.txt", "alpha\n");
    repo_.Write("dir/b.txt", "beta\n");
    repo_.Write("dir/sub/c.txt", "gamma\n");
    repo_.Write(".gitignore", "*.log\nbuild/\n");
    repo_.CommitAll("initial");
  }
  TestRepo repo_;
};

TEST_F(CheckpointTest, RestoreRemovesFilesCreatedAfterIt) {
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write("new.txt", "new\n");
  repo_.Write("newdir/deep/x.txt", "x\n");
  ASSERT_TRUE(ws->Checkpoint(Only({"new.txt", "newdir"}), "step 1").has_value());

  auto restored = ws->Restore(before, Only({"new.txt", "newdir"}));
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  EXPECT_FALSE(repo_.Exists("new.txt"));
  EXPECT_FALSE(repo_.Exists("newdir"));  // emptied directories go too
  EXPECT_EQ(repo_.Read("a.txt"), "alpha\n");
}

TEST_F(CheckpointTest, RestoreBringsBackDeletedFiles) {
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  repo_.Remove("a.txt");
  repo_.Remove("dir");
  ASSERT_TRUE(ws->Checkpoint(Only({"a.txt", "dir"}), "delete").has_value());

  ASSERT_TRUE(ws->Restore(before, Only({"a.txt", "dir"})).has_value());
  EXPECT_EQ(repo_.Read("a.txt"), "alpha\n");
  EXPECT_EQ(repo_.Read("dir/b.txt"), "beta\n");
  EXPECT_EQ(repo_.Read("dir/sub/c.txt"), "gamma\n");
  EXPECT_EQ(repo_.Git("status --porcelain"), "");
}

TEST_F(CheckpointTest, RestoreBringsBackModifiedContent) {
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write("dir/b.txt", "changed\n");
  ASSERT_TRUE(ws->Restore(before, Only({"dir/b.txt"})).has_value());
  EXPECT_EQ(repo_.Read("dir/b.txt"), "beta\n");
}

TEST_F(CheckpointTest, RestoreKeepsExecutableBit) {
  repo_.Write("run.sh", "#!/bin/sh\necho hi\n");
  repo_.Chmod("run.sh", 0755);
  repo_.CommitAll("script");
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();

  repo_.Chmod("run.sh", 0644);
  repo_.Write("run.sh", "#!/bin/sh\necho changed\n");
  repo_.Write("tool.sh", "#!/bin/sh\n");
  repo_.Chmod("tool.sh", 0755);
  auto after = ws->Checkpoint(Only({"run.sh", "tool.sh"}), "edit");
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(LsTree(repo_, *after).find("100755 blob"), std::string::npos);  // tool.sh

  ASSERT_TRUE(ws->Restore(before, Only({"run.sh", "tool.sh"})).has_value());
  EXPECT_TRUE(repo_.IsExecutable("run.sh"));
  EXPECT_EQ(repo_.Read("run.sh"), "#!/bin/sh\necho hi\n");

  ASSERT_TRUE(ws->Restore(*after, Only({"run.sh", "tool.sh"})).has_value());
  EXPECT_FALSE(repo_.IsExecutable("run.sh"));
  EXPECT_TRUE(repo_.IsExecutable("tool.sh"));
}

TEST_F(CheckpointTest, RestoreOfASymlink) {
  repo_.Symlink("a.txt", "link");
  repo_.CommitAll("link");
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();

  repo_.Remove("link");
  repo_.Write("link", "now a regular file\n");
  repo_.Symlink("dir/b.txt", "link2");
  ASSERT_TRUE(ws->Checkpoint(Only({"link", "link2"}), "edit").has_value());

  ASSERT_TRUE(ws->Restore(before, Only({"link", "link2"})).has_value());
  EXPECT_TRUE(repo_.IsSymlink("link"));
  EXPECT_EQ(repo_.LinkTarget("link"), "a.txt");
  EXPECT_FALSE(repo_.Exists("link2"));
}

TEST_F(CheckpointTest, CheckpointRecordsSymlinkAsLinkNotTarget) {
  repo_.Symlink("a.txt", "link");
  auto ws = OpenAndStart(repo_);
  std::string tree = LsTree(repo_, *ws->last_checkpoint());
  EXPECT_NE(tree.find("120000 blob"), std::string::npos) << tree;
  EXPECT_EQ(repo_.Git("cat-file -p " + ws->last_checkpoint()->hex + ":link"), "a.txt");
}

TEST_F(CheckpointTest, UntrackedNonIgnoredFilesAreCaptured) {
  repo_.Write("notes.md", "untracked\n");
  repo_.Write("debug.log", "ignored\n");
  repo_.Write("build/out.o", "ignored\n");
  auto ws = OpenAndStart(repo_);
  std::string tree = LsTree(repo_, *ws->last_checkpoint());
  EXPECT_NE(tree.find("notes.md"), std::string::npos);
  EXPECT_EQ(tree.find("debug.log"), std::string::npos);
  EXPECT_EQ(tree.find("build/"), std::string::npos);
}

// keep.log is ignored but protected (not build output): kept out of the
// tree, and a restore to before it existed removes it like any created file.
TEST_F(CheckpointTest, IgnoredFilesStayOutOfTheTreeAndExemptOnesAreNeverRemoved) {
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write("newdir/keep.log", "ignored output\n");
  repo_.Write("newdir/code.txt", "code\n");
  repo_.Write("build/out.o", "object\n");
  auto after = ws->Checkpoint(Only({"newdir", "build/out.o"}), "build");
  ASSERT_TRUE(after.has_value());
  std::string tree = LsTree(repo_, *after);
  EXPECT_NE(tree.find("newdir/code.txt"), std::string::npos);
  EXPECT_EQ(tree.find("keep.log"), std::string::npos);
  EXPECT_EQ(tree.find("out.o"), std::string::npos);

  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_FALSE(repo_.Exists("newdir/code.txt"));
  EXPECT_FALSE(repo_.Exists("newdir/keep.log"));
  EXPECT_EQ(repo_.Read("build/out.o"), "object\n");
}

TEST_F(CheckpointTest, GitAndTandemDirectoriesAreNeverCaptured) {
  repo_.Write(".tandem/ledger.db", "db\n");
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  std::string tree = LsTree(repo_, before);
  EXPECT_EQ(tree.find(".tandem"), std::string::npos);
  EXPECT_EQ(tree.find(".git/"), std::string::npos);

  repo_.Write(".tandem/progress.md", "progress\n");
  auto after = ws->Checkpoint(Only({".tandem/progress.md", ".git/config"}), "private");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(LsTree(repo_, *after), tree);
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_EQ(repo_.Read(".tandem/progress.md"), "progress\n");
}

TEST_F(CheckpointTest, UserIndexHeadAndStashAreUntouched) {
  repo_.Write("a.txt", "staged change\n");
  repo_.Git("add a.txt");
  repo_.Write("stashed.txt", "s\n");
  repo_.Git("add stashed.txt");
  repo_.Git("stash push -q -m keep stashed.txt");
  repo_.Write("dir/b.txt", "unstaged change\n");
  const std::string head = repo_.Git("rev-parse HEAD");
  const std::string cached = repo_.Git("diff --cached");
  const std::string stash = repo_.Git("stash list");
  const std::string branches = repo_.Git("for-each-ref refs/heads");
  auto read_index = [&] {
    std::ifstream f(repo_.root() / ".git/index", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  const std::string index_bytes = read_index();

  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  repo_.Write("dir/b.txt", "agent edit\n");
  repo_.Write("agent.txt", "new\n");
  ASSERT_TRUE(ws->Checkpoint(Only({"dir/b.txt", "agent.txt"}), "edit").has_value());
  ASSERT_TRUE(ws->Checkpoint(TouchedPaths::Unknown(), "rescan").has_value());
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  ws.reset();

  EXPECT_EQ(repo_.Git("rev-parse HEAD"), head);
  EXPECT_EQ(repo_.Git("diff --cached"), cached);
  EXPECT_EQ(repo_.Git("stash list"), stash);
  EXPECT_EQ(repo_.Git("for-each-ref refs/heads"), branches);
  EXPECT_EQ(read_index(), index_bytes);
  EXPECT_EQ(repo_.Read("dir/b.txt"), "unstaged change\n");  // the user's work is back
  EXPECT_EQ(repo_.Read("a.txt"), "staged change\n");
}

TEST_F(CheckpointTest, IncrementalCheckpointWithPathHintsEqualsFullRescan) {
  auto ws = OpenAndStart(repo_);
  repo_.Write("a.txt", "alpha 2\n");
  repo_.Remove("dir/sub");
  repo_.Write("dir/sub", "a file where a directory was\n");
  repo_.Write("x/y/z.txt", "new tree\n");
  repo_.Symlink("a.txt", "x/link");
  repo_.Write("x/skip.log", "ignored\n");
  repo_.Write("tool", "#!/bin/sh\n");
  repo_.Chmod("tool", 0755);
  auto incremental = ws->Checkpoint(Only({"a.txt", "dir/sub", "x", "tool", "missing.txt"}), "inc");
  ASSERT_TRUE(incremental.has_value()) << incremental.error().ToString();
  auto rescan = ws->Checkpoint(TouchedPaths::Unknown(), "rescan");
  ASSERT_TRUE(rescan.has_value()) << rescan.error().ToString();
  EXPECT_EQ(repo_.Git("rev-parse " + incremental->hex + "^{tree}"),
            repo_.Git("rev-parse " + rescan->hex + "^{tree}"));

  // And the reverse change: a directory where a file was.
  repo_.Remove("dir/sub");
  repo_.Write("dir/sub/again.txt", "dir again\n");
  auto inc2 = ws->Checkpoint(Only({"dir/sub"}), "inc2");
  ASSERT_TRUE(inc2.has_value()) << inc2.error().ToString();
  auto rescan2 = ws->Checkpoint(TouchedPaths::Unknown(), "rescan2");
  ASSERT_TRUE(rescan2.has_value());
  EXPECT_EQ(repo_.Git("rev-parse " + inc2->hex + "^{tree}"),
            repo_.Git("rev-parse " + rescan2->hex + "^{tree}"));
}

TEST_F(CheckpointTest, RestoreUnknownUndoesArbitraryChanges) {
  auto ws = OpenAndStart(repo_);
  CheckpointId before = *ws->last_checkpoint();
  // As if a shell command ran: tandem does not know what it touched.
  ASSERT_EQ(repo_.Shell("rm -r dir && echo new > n.txt && echo mod >> a.txt && mkdir -p q && "
                        "echo q > q/q.txt"),
            0);
  ASSERT_TRUE(ws->Restore(before, TouchedPaths::Unknown()).has_value());
  EXPECT_EQ(repo_.Git("status --porcelain --untracked-files=all"), "");
  EXPECT_FALSE(repo_.Exists("q"));
}

TEST_F(CheckpointTest, RunRefsFormAChainFromHead) {
  auto ws = OpenAndStart(repo_, "chain");
  repo_.Write("a.txt", "1\n");
  ASSERT_TRUE(ws->Checkpoint(Only({"a.txt"}), "one").has_value());
  repo_.Write("a.txt", "2\n");
  auto last = ws->Checkpoint(Only({"a.txt"}), "two");
  ASSERT_TRUE(last.has_value());

  auto list = ws->RunCheckpoints("chain");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->back(), *last);
  EXPECT_EQ(repo_.Git("rev-parse refs/tandem/runs/chain/2"), last->hex + "\n");
  EXPECT_EQ(repo_.Git("rev-parse refs/tandem/runs/chain/0^"), repo_.Git("rev-parse HEAD"));
  EXPECT_EQ(repo_.Git("log --format=%s refs/tandem/runs/chain/2 -3"),
            "tandem checkpoint 2: two\ntandem checkpoint 1: one\ntandem checkpoint 0: run start\n");
  EXPECT_EQ(repo_.Git("show refs/tandem/runs/chain/2:a.txt"), "2\n");
}

TEST_F(CheckpointTest, ResumedRunContinuesNumbering) {
  {
    auto ws = OpenAndStart(repo_, "resume");
    repo_.Write("a.txt", "1\n");
    ASSERT_TRUE(ws->Checkpoint(Only({"a.txt"}), "one").has_value());
  }
  auto ws = OpenAndStart(repo_, "resume");
  auto list = ws->RunCheckpoints("resume");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(repo_.Git("rev-parse refs/tandem/runs/resume/2^"),
            repo_.Git("rev-parse refs/tandem/runs/resume/1"));
}

TEST_F(CheckpointTest, NestedRepositoriesAreNotCapturedFileByFile) {
  auto ws = OpenAndStart(repo_);
  ASSERT_EQ(repo_.Shell("mkdir -p vendor/lib && cd vendor/lib && git init -q && echo x > x.txt"), 0);
  repo_.Write("vendor/own.txt", "own\n");
  auto cp = ws->Checkpoint(Only({"vendor"}), "vendor");
  ASSERT_TRUE(cp.has_value()) << cp.error().ToString();
  std::string tree = LsTree(repo_, *cp);
  EXPECT_NE(tree.find("vendor/own.txt"), std::string::npos);
  EXPECT_EQ(tree.find("x.txt"), std::string::npos) << tree;
}

TEST_F(CheckpointTest, CheckpointWithoutRunIsRefused) {
  auto ws = Workspace::Open(repo_.root());
  ASSERT_TRUE(ws.has_value());
  auto cp = (*ws)->Checkpoint(TouchedPaths::Unknown(), "x");
  ASSERT_FALSE(cp.has_value());
  EXPECT_EQ(cp.error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(CheckpointTest, PathsEscapingTheWorktreeAreRejected) {
  auto ws = OpenAndStart(repo_);
  auto cp = ws->Checkpoint(Only({"../outside"}), "x");
  ASSERT_FALSE(cp.has_value());
  EXPECT_EQ(cp.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ws->Checkpoint(Only({"/etc/passwd"}), "x").has_value());
}

TEST_F(CheckpointTest, BadRunIdsAreRejected) {
  auto ws = Workspace::Open(repo_.root());
  ASSERT_TRUE(ws.has_value());
  EXPECT_FALSE((*ws)->StartRun("../evil").has_value());
  EXPECT_FALSE((*ws)->StartRun("a b").has_value());
  EXPECT_FALSE((*ws)->StartRun("").has_value());
}

TEST(CheckpointEmptyRepo, WorksBeforeTheFirstCommit) {
  TestRepo repo;
  repo.Write("first.txt", "1\n");
  auto ws = OpenAndStart(repo);
  CheckpointId before = *ws->last_checkpoint();
  repo.Write("second.txt", "2\n");
  ASSERT_TRUE(ws->Checkpoint(Only({"second.txt"}), "two").has_value());
  ASSERT_TRUE(ws->Restore(before, Only({"second.txt"})).has_value());
  EXPECT_FALSE(repo.Exists("second.txt"));
  EXPECT_EQ(repo.Read("first.txt"), "1\n");
}

// A resumed run reads verify.md as its base checkpoint has it, whatever the
// working tree holds since.
TEST_F(CheckpointTest, ReadFileAtReturnsTheBytesTheCheckpointRecorded) {
  repo_.Write("secret.env.log", "protected ignored\n");
  auto ws = OpenAndStart(repo_);
  CheckpointId base = *ws->last_checkpoint();
  repo_.Write("a.txt", "edited since\n");
  repo_.Write("later.txt", "new\n");

  auto fresh = Workspace::Open(repo_.root());  // no run needed
  ASSERT_TRUE(fresh.has_value()) << fresh.error().ToString();
  auto a = (*fresh)->ReadFileAt(base, "a.txt");
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(*a, std::optional<std::string>("alpha\n"));
  EXPECT_EQ(*(*fresh)->ReadFileAt(base, "dir/sub/c.txt"), std::optional<std::string>("gamma\n"));
  EXPECT_EQ(*(*fresh)->ReadFileAt(base, "secret.env.log"),
            std::optional<std::string>("protected ignored\n"));
  EXPECT_EQ(*(*fresh)->ReadFileAt(base, "later.txt"), std::nullopt);
  auto dir = (*fresh)->ReadFileAt(base, "dir");
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tandem::workspace
