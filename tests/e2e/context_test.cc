// What floods the model's context is cut before it reaches the model: a
// command printing megabytes, binary and non-UTF-8 files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class ContextTest : public E2eTest {};

TEST_F(ContextTest, HugeCommandOutputReachesTheModelTruncated) {
  MakePassingRepo();
  // 5 MB of output: head and tail survive, the middle is cut.
  std::string command =
      "echo FIRST-LINE; yes 0123456789abcdef | head -c 5000000; echo; echo LAST-LINE";
  StartServer(Script({Turn(0, {Call("run_command", {{"command", command}})}), Finish(1)}));

  TandemRun run = Do("print a lot");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 1u);
  const std::string& text = results[0];
  EXPECT_LT(text.size(), 64u * 1024) << "the model received " << text.size() << " bytes";
  EXPECT_NE(text.find("FIRST-LINE"), std::string::npos);
  EXPECT_NE(text.find("LAST-LINE"), std::string::npos);
  EXPECT_NE(text.find("bytes omitted"), std::string::npos);
  // The request as a whole stays small too (nothing else carried the output).
  EXPECT_LT(Requests().back()["body"].dump().size(), 128u * 1024);
}

TEST_F(ContextTest, BinaryAndNonUtf8FilesAreReadWithoutFloodingTheContext) {
  std::string binary;
  for (int i = 0; i < 200000; ++i) binary += static_cast<char>((i * 7919) & 0xff);
  WriteFile("blob.bin", binary);
  WriteFile("latin1.txt", std::string("caf\xe9 cr\xe8me\n", 11));
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {Call("read_file", {{"path", "blob.bin"}}),
               Call("read_file", {{"path", "latin1.txt"}})}),
      Finish(1),
  }));

  TandemRun run = Do("read the files");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  // The request stayed valid JSON (the server parsed it) and small.
  ASSERT_TRUE(requests[1]["body"].is_object()) << requests[1]["body"].dump().substr(0, 300);
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_NE(results[0].find("binary"), std::string::npos) << results[0];
  EXPECT_LT(results[0].size(), 1024u) << results[0];
  EXPECT_LT(results[1].size(), 1024u) << results[1];
  auto finished = run.Events("tool_finished");
  ASSERT_GE(finished.size(), 2u);
  EXPECT_EQ(finished[0].value("outcome", ""), "ok") << finished[0].dump();
  EXPECT_EQ(finished[1].value("outcome", ""), "ok") << finished[1].dump();
}

// AGENTS.md is read by tandem itself, outside the sandbox, and sent to the
// model: a repository's AGENTS.md that links to a file elsewhere (a key in
// the home, /proc/self/environ) must not carry that file into the prompt.
TEST_F(ContextTest, AnAgentsMdLinkingOutOfTheRepositoryIsNotSentToTheModel) {
  const std::string secret = OutsidePath("id_rsa");
  {
    std::ofstream out(secret);
    out << "-----BEGIN KEY----- FILE-CANARY-5521 -----END KEY-----\n";
  }
  MakePassingRepo();
  std::filesystem::create_symlink(secret, root() + "/AGENTS.md");
  CommitAll("agents");
  StartServer(Script({Finish(kAnyTurn)}));

  TandemRun run = Do("look around");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_FALSE(Requests().empty());
  for (const auto& r : Requests()) {
    EXPECT_EQ(r["body"].dump().find("FILE-CANARY-5521"), std::string::npos)
        << "the linked file reached the model";
  }
  EXPECT_TRUE(run.HasNotice("AGENTS.md leads outside the repository, to " + secret))
      << run.Describe();
}

}  // namespace
}  // namespace tandem::e2e
