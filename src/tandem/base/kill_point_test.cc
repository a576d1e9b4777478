#include "tandem/base/kill_point.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

// Runs `body` in a child process whose environment has `env` (NAME=VALUE
// pairs) set before the first KillPoint; returns its wait status.
int InChild(const std::vector<std::pair<std::string, std::string>>& env,
            const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    body();
    ::_exit(7);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(KillPoint, KillsTheProcessTheNthTimeItsNameIsReached) {
  auto reach = [](int times) {
    return [times] {
      KillPoint("elsewhere");
      for (int i = 0; i < times; ++i) KillPoint("here");
    };
  };
  int status = InChild({{"TANDEM_TEST_KILL_POINT", "here:3"}}, reach(2));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  status = InChild({{"TANDEM_TEST_KILL_POINT", "here:3"}}, reach(3));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST(KillPoint, UnsetOrMalformedDoesNothing) {
  auto reach = [] {
    for (int i = 0; i < 5; ++i) KillPoint("here");
  };
  for (const char* spec : {"", "here", "here:", "here:0", "here:x", ":2"}) {
    int status = InChild({{"TANDEM_TEST_KILL_POINT", spec}}, reach);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << spec;
  }
  EXPECT_TRUE(WIFEXITED(InChild({}, reach)));
}

TEST(KillPoint, LogListsThePointsReachedInOrder) {
  char path[] = "/tmp/kill_point_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  int status = InChild({{"TANDEM_TEST_KILL_POINT_LOG", path}, {"TANDEM_TEST_KILL_POINT", "b:2"}},
                       [] {
                         KillPoint("a");
                         KillPoint("b");
                         KillPoint("a");
                         KillPoint("b");
                         KillPoint("never");
                       });
  EXPECT_TRUE(WIFSIGNALED(status));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "a\nb\na\nb\n");  // logged before the kill
  ::unlink(path);
}

}  // namespace
}  // namespace tandem
