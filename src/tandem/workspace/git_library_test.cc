// GitLibrary keeps libgit2 initialized across Workspaces, so the costly
// first initialization (the CA bundle parse, git_library.h) is paid once.
#include "tandem/workspace/git_library.h"

#include <git2.h>
#include <gtest/gtest.h>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

// libgit2's own count of initializations, read by taking one more and
// giving it back.
int Initializations() {
  int count = git_libgit2_init();
  git_libgit2_shutdown();
  return count - 1;
}

TEST(GitLibraryTest, LibgitStaysInitializedAfterTheLastWorkspaceCloses) {
  testing::TestRepo repo;
  repo.Write("a.txt", "alpha\n");
  repo.CommitAll();
  {
    auto ws = Workspace::Open(repo.root());
    ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
  }
  EXPECT_EQ(Initializations(), 0) << "without a GitLibrary the last Workspace shuts libgit2 down";
  GitLibrary library;
  {
    // Opened while the background initialization may still run: it waits.
    auto ws = Workspace::Open(repo.root());
    ASSERT_TRUE(ws.has_value()) << ws.error().ToString();
    auto base = (*ws)->StartRun("run-1");
    ASSERT_TRUE(base.has_value()) << base.error().ToString();
  }
  EXPECT_EQ(Initializations(), 1);
}

TEST(GitLibraryTest, ReleasesItsInitializationWhenDestroyed) {
  { GitLibrary library; }
  EXPECT_EQ(Initializations(), 0);
}

}  // namespace
}  // namespace tandem::workspace
