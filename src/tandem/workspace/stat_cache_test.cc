// Where the private index copy lives: nothing outside the repository's git
// directory, and what a killed process left there is cleaned by the next run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tandem/workspace/test_repo.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

using testing::TestRepo;

size_t CountEntries(const std::filesystem::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != end(it); ++it) ++n;
  return n;
}

pid_t DeadPid() {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST(StatCache, IndexCopyLivesUnderTheGitDirectoryNotInTmpdir) {
  TestRepo repo;
  repo.Write("a.txt", "a\n");
  repo.CommitAll();
  TestRepo tmp;  // an empty directory to serve as $TMPDIR
  std::filesystem::path tmpdir = tmp.root() / "tmp";
  std::filesystem::create_directories(tmpdir);
  const char* old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", tmpdir.c_str(), 1);
  {
    auto ws = std::move(*Workspace::Open(repo.root()));
    ASSERT_TRUE(ws->StartRun("run-1").has_value());
    EXPECT_EQ(CountEntries(tmpdir), 0u);
    EXPECT_EQ(CountEntries(repo.root() / ".git/tandem-tmp"), 1u);
  }
  if (old) setenv("TMPDIR", saved.c_str(), 1); else unsetenv("TMPDIR");
  EXPECT_EQ(CountEntries(repo.root() / ".git/tandem-tmp"), 0u);  // removed with the Workspace
}

TEST(StatCache, TheNextRunRemovesTheCopyAKilledProcessLeft) {
  TestRepo repo;
  repo.Write("a.txt", "a\n");
  repo.CommitAll();
  std::filesystem::path dir = repo.root() / ".git/tandem-tmp";
  std::filesystem::create_directories(dir);
  std::string dead = "index-" + std::to_string(DeadPid()) + "-abcdef";
  std::string live = "index-" + std::to_string(getppid()) + "-abcdef";  // a live process's copy
  repo.Write(".git/tandem-tmp/" + dead, "stale");
  repo.Write(".git/tandem-tmp/" + live, "in use");
  auto ws = std::move(*Workspace::Open(repo.root()));
  ASSERT_TRUE(ws->StartRun("run-1").has_value());
  EXPECT_FALSE(repo.Exists(".git/tandem-tmp/" + dead));
  EXPECT_TRUE(repo.Exists(".git/tandem-tmp/" + live));
}

}  // namespace
}  // namespace tandem::workspace
