// The command sandbox end to end: no network (not even loopback to the
// host), and `.git` read-only for what the classifier cannot read.
// Skipped, with the reason, where bubblewrap cannot start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/e2e/canary_helpers.h"
#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

// Whether bubblewrap can start a network-less sandbox on this machine.
bool BwrapWorks() {
  return std::system(
             "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-net true "
             ">/dev/null 2>&1") == 0;
}

class SandboxTest : public E2eTest {
 protected:
  void SetUp() override {
    if (!BwrapWorks()) GTEST_SKIP() << "bubblewrap cannot start on this machine";
  }
};

TEST_F(SandboxTest, CommandCannotConnectToALoopbackPortOfTheHost) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  int port = listener.port();

  MakePassingRepo();
  std::string command = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', " +
                        std::to_string(port) + "), timeout=3); print('CONNECTED')\"";
  StartServer(Script({Turn(0, {Call("run_command", {{"command", command}})}), Finish(1)}));

  TandemRun run = Do("try the network");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].find("CONNECTED"), std::string::npos) << results[0];
  // python ran (in the sandbox) and its connect failed.
  EXPECT_NE(results[0].find("exit code 1"), std::string::npos) << results[0];
  EXPECT_NE(results[0].find("create_connection"), std::string::npos) << results[0];
  // Nothing ever reached the listener.
  EXPECT_FALSE(listener.Accepted()) << "the sandboxed command connected to the host";
}

TEST_F(SandboxTest, DotGitIsReadOnlyForCommands) {
  MakePassingRepo();
  // An interpreter's writes are invisible to the classifier; the sandbox stops them.
  std::string command = "python3 -c \"open('.git/evil', 'w').write('x')\"";
  StartServer(Script({Turn(0, {Call("run_command", {{"command", command}})}), Finish(1)}));

  TandemRun run = Do("write into git");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Exists(".git/evil"));
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].find("Read-only file system"), std::string::npos) << results[0];
}

}  // namespace
}  // namespace tandem::e2e
