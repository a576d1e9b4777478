// The provider's API key is used on the wire and nowhere else: not in the
// ledger's bytes, the JSONL events, stderr, nor the commands' environment.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/canary_helpers.h"
#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr char kKeyVar[] = "E2E_FAKE_PROVIDER_KEY";
constexpr char kKey[] = "e2e-fake-key-7f3a9c1d5b2e8f40";

class SecretsTest : public E2eTest {
 protected:
  // Every byte tandem left in its state directory, <git dir>/tandem/ (the
  // ledger, its WAL, anything else).
  std::string TandemDirBytes() {
    std::string bytes = DirBytes(std::filesystem::path(LedgerPath()).parent_path());
    EXPECT_FALSE(bytes.empty()) << "no ledger in " << LedgerPath();
    return bytes;
  }
  void StartKeyedServer(const json& script) {
    StartServer(script, std::string("api_key_env = \"") + kKeyVar + "\"\n", kKey);
  }
};

TEST_F(SecretsTest, ApiKeyIsAbsentFromLedgerEventsAndCommandEnvironment) {
  MakePassingRepo();
  StartKeyedServer(Script({
      Turn(0, {Call("run_command", {{"command", "env; echo done"}})}),
      Turn(1, {Call("write_file", {{"path", "out.txt"}, {"content", "ok\n"}})}),
      Finish(2),
  }));

  TandemRun run = Do("use the key", {}, {{kKeyVar, kKey}});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // The key was really in use: the server (which requires it) answered,
  // and the requests carried it.
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["headers"].value("authorization", ""), std::string("Bearer ") + kKey);
  // The command's environment did not hold it.
  auto results = LastRequestToolResults();
  ASSERT_FALSE(results.empty());
  EXPECT_NE(results[0].find("done"), std::string::npos) << results[0];
  EXPECT_EQ(results[0].find(kKey), std::string::npos);
  EXPECT_EQ(results[0].find(kKeyVar), std::string::npos);
  EXPECT_EQ(run.out.find(kKey), std::string::npos);
  EXPECT_EQ(run.err.find(kKey), std::string::npos);
  EXPECT_EQ(TandemDirBytes().find(kKey), std::string::npos);
}

// redact.h: a registered key never reaches the ledger, an event or a
// prompt, even when it sits in a workspace file the model reads.
TEST_F(SecretsTest, ApiKeyInAFileTheModelReadsIsRedactedFromLedgerEventsAndPrompts) {
  MakePassingRepo();
  WriteFile("local.env", std::string("PROVIDER_KEY=") + kKey + "\n");
  // The model reads the file, prints it with a command, and fails an edit
  // on it (whose error message quotes the closest lines).
  StartKeyedServer(Script({
      Turn(0, {Call("read_file", {{"path", "local.env"}}),
               Call("run_command", {{"command", "cat local.env; exit 3"}}),
               Call("edit_file", {{"path", "local.env"},
                                  {"old_text", "PROVIDER_KEY=something-else"},
                                  {"new_text", "x"}})}),
      Finish(1),
  }));

  TandemRun run = Do("look around", {}, {{kKeyVar, kKey}});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_NE(results[0].find("PROVIDER_KEY="), std::string::npos) << results[0];
  EXPECT_EQ(run.out.find(kKey), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find(kKey), std::string::npos);
  EXPECT_EQ(TandemDirBytes().find(kKey), std::string::npos);
  for (const auto& request : Requests()) {
    EXPECT_EQ(request["body"].dump().find(kKey), std::string::npos)
        << "request " << request.value("seq", 0) << " carried the key to the model";
  }
}

}  // namespace
}  // namespace tandem::e2e
