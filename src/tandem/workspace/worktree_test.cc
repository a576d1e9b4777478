// Worktree creation, reset and removal against real git repositories,
// checked with the git CLI's own view.
#include "tandem/workspace/worktree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;
using testing::TestRepo;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
}

class WorktreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README.md", "hello\n");
    repo_.Write("src/a.txt", "a1\n");
    repo_.Write("run.sh", "#!/bin/sh\necho hi\n");
    repo_.Chmod("run.sh", 0755);
    repo_.Symlink("a.txt", "src/link");
    repo_.Write(".gitignore", "node_modules/\nbuild/\n*.log\n");
    repo_.CommitAll("first");
    first_ = Head();
  }

  CheckpointId Head() const {
    std::string hex = repo_.Git("rev-parse HEAD");
    return CheckpointId{hex.substr(0, 40)};
  }

  Worktree MustCreate(const std::string& id, const CheckpointId& at,
                      const WorktreeOptions& options = {}) {
    Result<Worktree> wt = Worktree::Create(repo_.root(), id, at, options);
    EXPECT_TRUE(wt.has_value()) << wt.error().ToString();
    return std::move(*wt);
  }

  std::string GitIn(const fs::path& dir, const std::string& args) {
    std::string out;
    int rc = repo_.Shell("cd '" + dir.string() + "' && GIT_CONFIG_NOSYSTEM=1 git " + args, &out);
    EXPECT_EQ(rc, 0) << "git " << args << ": " << out;
    return out;
  }

  TestRepo repo_;
  CheckpointId first_;
};

TEST_F(WorktreeTest, CreateChecksOutTheCheckpointUnderTheGitDirectory) {
  repo_.Write("src/a.txt", "a2\n");
  repo_.CommitAll("second");
  Worktree wt = MustCreate("task-1", first_);  // the older commit, not HEAD
  EXPECT_EQ(wt.root(), repo_.root() / ".git/tandem/worktrees/task-1");
  EXPECT_EQ(ReadFile(wt.root() / "src/a.txt"), "a1\n");
  EXPECT_EQ(ReadFile(wt.root() / "README.md"), "hello\n");
  struct stat st{};
  ASSERT_EQ(stat((wt.root() / "run.sh").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IXUSR, 0u);
  EXPECT_EQ(fs::read_symlink(wt.root() / "src/link"), "a.txt");
  EXPECT_EQ(GitIn(wt.root(), "rev-parse HEAD").substr(0, 40), first_.hex);
  EXPECT_EQ(repo_.Git("rev-parse " + Worktree::RefFor("task-1")).substr(0, 40), first_.hex);
}

// A worktree holds a checkpoint's bytes exactly, as a restore does: no
// CRLF conversion or ident expansion on the way out (a checkpoint stores
// the working tree's bytes unfiltered, so converting them again would make
// an agent's untouched files differ and merge back as its changes).
TEST_F(WorktreeTest, CreateWritesTheCheckpointsBytesUnfiltered) {
  repo_.Git("config core.autocrlf true");
  repo_.Write(".gitattributes", "*.c ident\n*.txt text eol=crlf\n");
  repo_.Write("src/id.c", "/* $Id$ */\n");
  repo_.Write("src/lf.txt", "one\ntwo\n");
  auto ws = Workspace::Open(repo_.root());
  ASSERT_TRUE(ws.has_value());
  auto checkpoint = (*ws)->StartRun("bytes");
  ASSERT_TRUE(checkpoint.has_value()) << checkpoint.error().ToString();
  Worktree wt = MustCreate("task-1", *checkpoint);
  EXPECT_EQ(ReadFile(wt.root() / "src/id.c"), "/* $Id$ */\n");
  EXPECT_EQ(ReadFile(wt.root() / "src/lf.txt"), "one\ntwo\n");
  EXPECT_EQ(ReadFile(wt.root() / "README.md"), "hello\n");
}

TEST_F(WorktreeTest, CreateLeavesTheUsersBranchesHeadAndIndexAlone) {
  repo_.Write("staged.txt", "staged\n");
  repo_.Git("add staged.txt");
  std::string branches = repo_.Git("for-each-ref refs/heads");
  std::string head = repo_.Git("symbolic-ref HEAD");
  std::string index = ReadFile(repo_.root() / ".git/index");
  Worktree wt = MustCreate("task-1", first_);
  EXPECT_EQ(repo_.Git("for-each-ref refs/heads"), branches);
  EXPECT_EQ(repo_.Git("symbolic-ref HEAD"), head);
  EXPECT_EQ(ReadFile(repo_.root() / ".git/index"), index);
  EXPECT_FALSE(fs::exists(wt.root() / "staged.txt"));
  // The main worktree does not see the linked one as untracked content.
  EXPECT_EQ(repo_.Git("status --porcelain"), "A  staged.txt\n");
}

TEST_F(WorktreeTest, GitSeesALockedDetachedLinkedWorktreeWithACleanIndex) {
  Worktree wt = MustCreate("task-1", first_);
  std::string list = repo_.Git("worktree list --porcelain");
  EXPECT_NE(list.find("worktree " + wt.root().string() + "\n"), std::string::npos) << list;
  EXPECT_NE(list.find("detached"), std::string::npos) << list;
  EXPECT_NE(list.find("locked"), std::string::npos) << list;
  EXPECT_EQ(GitIn(wt.root(), "status --porcelain"), "");
  repo_.Git("worktree prune");  // a locked worktree survives pruning
  EXPECT_NE(repo_.Git("worktree list").find(wt.root().string()), std::string::npos);
}

TEST_F(WorktreeTest, CheckpointsInTheWorktreeLandInTheSharedObjectDatabase) {
  Worktree wt = MustCreate("task-1", first_);
  auto ws = Workspace::Open(wt.root());
  ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
  ASSERT_TRUE((*ws)->StartRun("run-w").has_value());
  EXPECT_EQ((*ws)->full_scans(), 1);
  WriteFile(wt.root() / "src/new.txt", "from the agent\n");
  Result<CheckpointId> cp = (*ws)->Checkpoint(TouchedPaths::Only({"src/new.txt"}), "edit");
  ASSERT_TRUE(cp.has_value()) << cp.error().ToString();
  // Visible from the main repository: the object and the run's ref.
  EXPECT_EQ(repo_.Git("show " + cp->hex + ":src/new.txt"), "from the agent\n");
  EXPECT_EQ(repo_.Git("rev-parse refs/tandem/runs/run-w/1").substr(0, 40), cp->hex);
  // The main worktree's files are untouched.
  EXPECT_FALSE(repo_.Exists("src/new.txt"));
}

TEST_F(WorktreeTest, RemoveLeavesNoTrace) {
  Worktree wt = MustCreate("task-1", first_);
  WriteFile(wt.root() / "build/out.o", "object\n");  // ignored files go too
  ASSERT_TRUE(Worktree::Remove(repo_.root(), "task-1").ok());
  EXPECT_FALSE(fs::exists(wt.root()));
  EXPECT_FALSE(fs::exists(repo_.root() / ".git/worktrees/tandem-task-1"));
  EXPECT_EQ(repo_.Git("for-each-ref refs/tandem/worktrees"), "");
  EXPECT_EQ(repo_.Git("worktree list --porcelain").find("task-1"), std::string::npos);
  Result<std::vector<std::string>> left = Worktree::List(repo_.root());
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->empty());
  EXPECT_EQ(Worktree::Remove(repo_.root(), "task-1").code(), StatusCode::kNotFound);
}

TEST_F(WorktreeTest, RemoveCleansUpAPartlyCreatedWorktree) {
  // As a crash between writing the admin dir and checking out would leave it.
  fs::create_directories(repo_.root() / ".git/worktrees/tandem-task-9");
  Result<std::vector<std::string>> left = Worktree::List(repo_.root());
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, std::vector<std::string>{"task-9"});
  EXPECT_TRUE(Worktree::Remove(repo_.root(), "task-9").ok());
  EXPECT_FALSE(fs::exists(repo_.root() / ".git/worktrees/tandem-task-9"));
}

TEST_F(WorktreeTest, ListNamesEveryWorktreeAndCreateRefusesATakenId) {
  MustCreate("task-1", first_);
  MustCreate("variant-7", first_);
  Result<std::vector<std::string>> ids = Worktree::List(repo_.root());
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(*ids, (std::vector<std::string>{"task-1", "variant-7"}));
  EXPECT_EQ(Worktree::Create(repo_.root(), "task-1", first_).error().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(WorktreeTest, CreateRejectsBadIdsAndUnknownCommitsLeavingNothing) {
  for (const char* bad : {"", ".hidden", "a/b", "a..b", "x.lock", "sp ace"}) {
    Result<Worktree> wt = Worktree::Create(repo_.root(), bad, first_);
    ASSERT_FALSE(wt.has_value()) << bad;
    EXPECT_EQ(wt.error().code(), StatusCode::kInvalidArgument) << bad;
  }
  Result<Worktree> unknown =
      Worktree::Create(repo_.root(), "task-1", CheckpointId{std::string(40, 'a')});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  Result<std::vector<std::string>> ids = Worktree::List(repo_.root());
  ASSERT_TRUE(ids.has_value());
  EXPECT_TRUE(ids->empty());
}

TEST_F(WorktreeTest, CreateFromALinkedWorktreeUsesTheCommonGitDirectory) {
  Worktree outer = MustCreate("task-1", first_);
  Result<Worktree> inner = Worktree::Create(outer.root(), "task-2", first_);
  ASSERT_TRUE(inner.has_value()) << inner.error().ToString();
  EXPECT_EQ(inner->root(), repo_.root() / ".git/tandem/worktrees/task-2");
}

TEST_F(WorktreeTest, ResetMovesTheWorktreeToAnotherCheckpointKeepingIgnoredFiles) {
  repo_.Write("src/a.txt", "a2\n");
  repo_.Write("src/added.txt", "added\n");
  repo_.Remove("README.md");
  repo_.CommitAll("second");
  CheckpointId second = Head();
  Worktree wt = MustCreate("task-1", first_);
  WriteFile(wt.root() / "scratch.txt", "agent leftovers\n");  // untracked: goes
  WriteFile(wt.root() / "build/cache", "warm\n");             // ignored build output: stays
  Result<std::unique_ptr<Workspace>> ws = Worktree::Reset(repo_.root(), "task-1", second);
  ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
  EXPECT_EQ(ReadFile(wt.root() / "src/a.txt"), "a2\n");
  EXPECT_EQ(ReadFile(wt.root() / "src/added.txt"), "added\n");
  EXPECT_FALSE(fs::exists(wt.root() / "README.md"));
  EXPECT_FALSE(fs::exists(wt.root() / "scratch.txt"));
  EXPECT_EQ(ReadFile(wt.root() / "build/cache"), "warm\n");
  EXPECT_EQ(GitIn(wt.root(), "rev-parse HEAD").substr(0, 40), second.hex);
  EXPECT_EQ(GitIn(wt.root(), "status --porcelain"), "");
  EXPECT_EQ(repo_.Git("rev-parse " + Worktree::RefFor("task-1")).substr(0, 40), second.hex);
}

// What a tree holds, for comparing a reset worktree with a fresh checkout:
// every path (directories too, so a stray empty one shows) with its type,
// executable bit and bytes or link target. Skips .git and `skip` (top-level
// names).
std::map<std::string, std::string> TreeState(const fs::path& root,
                                             const std::set<std::string>& skip = {}) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    std::string top = rel.substr(0, rel.find('/'));
    if (top == ".git" || skip.count(top) > 0) {
      if (it->is_directory() && !it->is_symlink()) it.disable_recursion_pending();
      continue;
    }
    struct stat st{};
    EXPECT_EQ(lstat(it->path().c_str(), &st), 0) << rel;
    if (S_ISLNK(st.st_mode)) {
      out[rel] = "link -> " + fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      out[rel] = "dir";
    } else {
      out[rel] = std::string((st.st_mode & S_IXUSR) ? "exec " : "file ") + ReadFile(it->path());
    }
  }
  return out;
}

class WorktreeResetTest : public WorktreeTest {
 protected:
  // The target: a checkpoint of the main worktree that differs from first_
  // in content, presence, mode and type.
  CheckpointId CommitTarget() {
    repo_.Write("src/a.txt", "a2\n");
    repo_.Write("src/added.txt", "added\n");
    repo_.Write("docs/guide.md", "guide\n");
    repo_.Remove("README.md");
    repo_.Chmod("run.sh", 0644);
    repo_.Write("tool.sh", "#!/bin/sh\n");
    repo_.Chmod("tool.sh", 0755);
    repo_.CommitAll("target");
    return Head();
  }

  // A task's work in the worktree at `root`, as its Workspace records it:
  // modified, added, deleted, chmod'ed and symlinked files, a file turned
  // into a directory; then, after its last checkpoint (like a gate), an
  // untracked file, a protected ignored file, an ignored build directory
  // and an empty directory.
  void DoTask(const fs::path& root, Workspace& ws) {
    WriteFile(root / "src/a.txt", "task edit\n");
    WriteFile(root / "src/task-new.txt", "task file\n");
    fs::remove(root / "run.sh");
    WriteFile(root / "README.md", "rewritten\n");
    ASSERT_EQ(chmod((root / "README.md").c_str(), 0755), 0);
    fs::remove(root / "src/link");
    fs::create_symlink("../README.md", root / "src/link");
    fs::create_symlink("src/a.txt", root / "alias");
    fs::remove(root / "docs");  // nothing there: docs/ is the target's
    WriteFile(root / "docs/guide.md/inner.txt", "a directory where the target has a file\n");
    ASSERT_TRUE(ws.Checkpoint(TouchedPaths::Unknown(), "task step").has_value());
    WriteFile(root / "scratch.txt", "untracked leftovers\n");
    WriteFile(root / "debug.log", "protected ignored\n");
    WriteFile(root / "build/out.o", "object code\n");
    fs::create_directories(root / "empty/deeper");
  }

  void ExpectLikeAFreshCheckout(const fs::path& reset_root, const CheckpointId& target) {
    Worktree fresh = MustCreate("fresh", target);
    std::map<std::string, std::string> state = TreeState(reset_root, {"build"});
    EXPECT_EQ(state, TreeState(fresh.root(), {"build"}));
    EXPECT_EQ(state["src/link"], "link -> a.txt");
    EXPECT_EQ(state["tool.sh"], "exec #!/bin/sh\n");
    EXPECT_EQ(GitIn(reset_root, "ls-files -s"), GitIn(fresh.root(), "ls-files -s"));
    EXPECT_EQ(GitIn(reset_root, "status --porcelain --untracked-files=all"), "");
    EXPECT_EQ(GitIn(reset_root, "rev-parse HEAD").substr(0, 40), target.hex);
    EXPECT_EQ(repo_.Git("rev-parse " + Worktree::RefFor("slot")).substr(0, 40), target.hex);
    // Build output stays, as the slot's own warm build.
    EXPECT_EQ(ReadFile(reset_root / "build/out.o"), "object code\n");
  }
};

TEST_F(WorktreeResetTest, AResetWithTheLastTasksWorkspaceCostsNoScanAndLeavesAFreshCheckout) {
  CheckpointId target = CommitTarget();
  Worktree wt = MustCreate("slot", first_);
  auto ws = Workspace::Open(wt.root());
  ASSERT_TRUE(ws.has_value());
  ASSERT_TRUE((*ws)->StartRun("task-1").has_value());
  DoTask(wt.root(), **ws);
  ASSERT_EQ((*ws)->full_scans(), 1);  // StartRun's only

  Result<std::unique_ptr<Workspace>> reset =
      Worktree::Reset(repo_.root(), "slot", target, std::move(*ws));
  ASSERT_TRUE(reset.has_value()) << reset.error().ToString();
  EXPECT_EQ((*reset)->full_scans(), 1);  // the watch knew what the task changed
  ExpectLikeAFreshCheckout(wt.root(), target);

  // The next task starts without a scan, and its checkpoint 0 is the target.
  Result<CheckpointId> start = (*reset)->StartRun("task-2");
  ASSERT_TRUE(start.has_value()) << start.error().ToString();
  EXPECT_EQ((*reset)->full_scans(), 1);
  EXPECT_EQ((*reset)->TreeHash(*start).value(), repo_.Git("rev-parse " + target.hex + "^{tree}").substr(0, 40));
  // ... and what it does next is still seen.
  WriteFile(wt.root() / "src/added.txt", "second task\n");
  Result<CheckpointId> step = (*reset)->Checkpoint(TouchedPaths::Unknown(), "step");
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(repo_.Git("show " + step->hex + ":src/added.txt"), "second task\n");
  // The first task's run keeps its history.
  EXPECT_EQ(repo_.Git("rev-parse refs/tandem/runs/task-1/1").size(), 41u);
}

TEST_F(WorktreeResetTest, WithoutTheLastTasksWorkspaceTheResetScansAndLeavesTheSameTree) {
  CheckpointId target = CommitTarget();
  Worktree wt = MustCreate("slot", first_);
  {
    auto ws = Workspace::Open(wt.root());
    ASSERT_TRUE(ws.has_value());
    ASSERT_TRUE((*ws)->StartRun("task-1").has_value());
    DoTask(wt.root(), **ws);
  }  // its state is gone (as after a crash or in a new process)
  Result<std::unique_ptr<Workspace>> reset = Worktree::Reset(repo_.root(), "slot", target);
  ASSERT_TRUE(reset.has_value()) << reset.error().ToString();
  EXPECT_EQ((*reset)->full_scans(), 1);  // the fallback: one full scan
  ExpectLikeAFreshCheckout(wt.root(), target);
  ASSERT_TRUE((*reset)->StartRun("task-2").has_value());
  EXPECT_EQ((*reset)->full_scans(), 1);
}

TEST_F(WorktreeResetTest, ADistrustedWatchMakesTheResetScan) {
  CheckpointId target = CommitTarget();
  Worktree wt = MustCreate("slot", first_);
  auto ws = Workspace::Open(wt.root());
  ASSERT_TRUE(ws.has_value());
  ASSERT_TRUE((*ws)->StartRun("task-1").has_value());
  DoTask(wt.root(), **ws);
  (*ws)->DistrustWatch();  // e.g. a command ran outside the sandbox
  Result<std::unique_ptr<Workspace>> reset =
      Worktree::Reset(repo_.root(), "slot", target, std::move(*ws));
  ASSERT_TRUE(reset.has_value()) << reset.error().ToString();
  EXPECT_EQ((*reset)->full_scans(), 2);
  ExpectLikeAFreshCheckout(wt.root(), target);
}

TEST_F(WorktreeResetTest, AWorkspaceOfAnotherTreeIsRefused) {
  CheckpointId target = CommitTarget();
  MustCreate("slot", first_);
  auto other = Workspace::Open(repo_.root());
  ASSERT_TRUE(other.has_value());
  Result<std::unique_ptr<Workspace>> reset =
      Worktree::Reset(repo_.root(), "slot", target, std::move(*other));
  ASSERT_FALSE(reset.has_value());
  EXPECT_EQ(reset.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(WorktreeResetTest, PolicyDirectoriesStayAsTheWorktreesOwn) {
  CheckpointId target = CommitTarget();
  repo_.Write("node_modules/dep/index.js", "x\n");
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{{"node_modules", IgnoredPathMode::kSymlink, ""}};
  Worktree wt = MustCreate("slot", first_, options);
  auto ws = Workspace::Open(wt.root());
  ASSERT_TRUE(ws.has_value());
  ASSERT_TRUE((*ws)->StartRun("task-1").has_value());
  Result<std::unique_ptr<Workspace>> reset =
      Worktree::Reset(repo_.root(), "slot", target, std::move(*ws));
  ASSERT_TRUE(reset.has_value()) << reset.error().ToString();
  ASSERT_TRUE(fs::is_symlink(wt.root() / "node_modules"));
  EXPECT_EQ(fs::read_symlink(wt.root() / "node_modules"), repo_.root() / "node_modules");
  EXPECT_EQ(GitIn(wt.root(), "rev-parse HEAD").substr(0, 40), target.hex);
}

TEST_F(WorktreeTest, DefaultPolicyClonesIgnoredBuildDirectoriesPrivately) {
  repo_.Write("node_modules/dep/index.js", "module.exports = 1;\n");
  repo_.Write("build/cache.bin", "warm\n");
  repo_.Write("target/ignored-but-tracked-not", "x\n");  // not ignored: not cloned
  Worktree wt = MustCreate("task-1", first_);
  EXPECT_EQ(ReadFile(wt.root() / "node_modules/dep/index.js"), "module.exports = 1;\n");
  EXPECT_EQ(ReadFile(wt.root() / "build/cache.bin"), "warm\n");
  EXPECT_FALSE(fs::exists(wt.root() / "target"));
  EXPECT_FALSE(fs::is_symlink(wt.root() / "build"));
  // The worktree's build writes into its own copy, not the source's.
  WriteFile(wt.root() / "build/cache.bin", "rebuilt by the agent\n");
  EXPECT_EQ(repo_.Read("build/cache.bin"), "warm\n");
  EXPECT_TRUE(wt.setup_commands().empty());
}

TEST_F(WorktreeTest, ExplicitPoliciesSymlinkSkipOrHandBackASetupCommand) {
  repo_.Write("node_modules/dep/index.js", "x\n");
  repo_.Write("build/cache.bin", "warm\n");
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{
      {"node_modules", IgnoredPathMode::kSymlink, ""},
      {"build", IgnoredPathMode::kSkip, ""},
      {".venv", IgnoredPathMode::kSetupCommand, "python3 -m venv .venv"},
  };
  Worktree wt = MustCreate("task-1", first_, options);
  ASSERT_TRUE(fs::is_symlink(wt.root() / "node_modules"));
  EXPECT_EQ(fs::read_symlink(wt.root() / "node_modules"), repo_.root() / "node_modules");
  EXPECT_FALSE(fs::exists(wt.root() / "build"));
  EXPECT_FALSE(fs::exists(wt.root() / ".venv"));  // tandem never runs it itself
  EXPECT_EQ(wt.setup_commands(),
            (std::vector<SetupCommand>{{".venv", "python3 -m venv .venv"}}));
}

TEST_F(WorktreeTest, BadPolicyPathFailsCreationAndLeavesNothing) {
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{{"../outside", IgnoredPathMode::kClone, ""}};
  Result<Worktree> wt = Worktree::Create(repo_.root(), "task-1", first_, options);
  ASSERT_FALSE(wt.has_value());
  EXPECT_EQ(wt.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wt.error().message().find("../outside"), std::string::npos);
  EXPECT_FALSE(fs::exists(repo_.root() / ".git/tandem/worktrees/task-1"));
  EXPECT_EQ(repo_.Git("for-each-ref refs/tandem/worktrees"), "");
}

// A repository may make a directory on a policy's path a symlink to
// anywhere: the clone must neither read from there nor write there.
class IgnoredPathSymlinkTest : public WorktreeTest {
 protected:
  void SetUp() override {
    WorktreeTest::SetUp();
    WriteFile(outside_.root() / "node_modules/secret.txt", "outside the repository\n");
  }

  // Files under the outside directory, relative to it.
  std::vector<std::string> OutsideFiles() {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(outside_.root())) {
      std::string rel = fs::relative(e.path(), outside_.root()).string();
      if (!rel.starts_with(".git")) files.push_back(rel);
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  TestRepo outside_;
};

TEST_F(IgnoredPathSymlinkTest, ASymlinkedParentInTheSourceIsRefusedNotRead) {
  repo_.Symlink(outside_.root().string(), "pkg");
  for (IgnoredPathMode mode : {IgnoredPathMode::kClone, IgnoredPathMode::kSymlink}) {
    WorktreeOptions options;
    options.ignored = std::vector<IgnoredPathPolicy>{{"pkg/node_modules", mode, ""}};
    Result<Worktree> wt = Worktree::Create(repo_.root(), "task-1", first_, options);
    ASSERT_FALSE(wt.has_value());
    EXPECT_NE(wt.error().message().find("pkg is a symlink"), std::string::npos)
        << wt.error().message();
    fs::path made = repo_.root() / ".git/tandem/worktrees/task-1/pkg/node_modules";
    EXPECT_FALSE(fs::exists(fs::symlink_status(made / "secret.txt")));
    EXPECT_FALSE(fs::exists(fs::symlink_status(made)));
  }
}

TEST_F(IgnoredPathSymlinkTest, ASymlinkedParentInTheWorktreeIsRefusedNotWrittenThrough) {
  // The checkpoint has pkg as a symlink to outside; the source's pkg is a
  // real directory now, with an ignored node_modules in it.
  repo_.Symlink(outside_.root().string(), "pkg");
  repo_.CommitAll("pkg is a link");
  CheckpointId linked = Head();
  repo_.Remove("pkg");
  repo_.Write("pkg/node_modules/dep.js", "dependency\n");
  std::vector<std::string> before = OutsideFiles();
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{{"pkg/node_modules/dep.js", IgnoredPathMode::kClone, ""},
                                                    {"pkg/node_modules", IgnoredPathMode::kSymlink, ""}};
  for (const IgnoredPathPolicy& policy : *options.ignored) {
    WorktreeOptions one;
    one.ignored = std::vector<IgnoredPathPolicy>{policy};
    Result<Worktree> wt = Worktree::Create(repo_.root(), "task-1", linked, one);
    ASSERT_FALSE(wt.has_value()) << policy.path;
    EXPECT_NE(wt.error().message().find("pkg is a symlink"), std::string::npos)
        << wt.error().message();
    EXPECT_EQ(OutsideFiles(), before) << policy.path;
  }
}

TEST_F(IgnoredPathSymlinkTest, APolicyPathThatIsASymlinkIsCopiedAsASymlink) {
  repo_.Symlink(outside_.root().string() + "/node_modules", "node_modules");
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{{"node_modules", IgnoredPathMode::kClone, ""}};
  Worktree wt = MustCreate("task-1", first_, options);
  ASSERT_TRUE(fs::is_symlink(wt.root() / "node_modules"));
  EXPECT_EQ(fs::read_symlink(wt.root() / "node_modules"), outside_.root() / "node_modules");
  EXPECT_EQ(OutsideFiles(), (std::vector<std::string>{"node_modules", "node_modules/secret.txt"}));
}

TEST(CloneTree, CopiesFilesModesAndSymlinksAndKeepsExistingFiles) {
  TestRepo repo;
  repo.Write("from/a/b.txt", "b\n");
  repo.Write("from/tool", "#!/bin/sh\n");
  repo.Chmod("from/tool", 0750);
  repo.Symlink("a/b.txt", "from/link");
  repo.Write("to/a/b.txt", "tracked wins\n");
  ASSERT_TRUE(CloneTree(repo.root() / "from", repo.root() / "to").ok());
  EXPECT_EQ(repo.Read("to/a/b.txt"), "tracked wins\n");
  EXPECT_TRUE(repo.IsExecutable("to/tool"));
  struct stat st{};
  ASSERT_EQ(stat((repo.root() / "to/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(repo.LinkTarget("to/link"), "a/b.txt");
  repo.Write("to/tool", "changed\n");  // a copy, not a hard link
  EXPECT_EQ(repo.Read("from/tool"), "#!/bin/sh\n");
}

}  // namespace
}  // namespace tandem::workspace
