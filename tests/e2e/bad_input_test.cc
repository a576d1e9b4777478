// Bad input stops tandem before anything runs: exit 2, a message naming
// the file, line and key, no model request, no change to the tree.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

class BadInputTest : public E2eTest {
 protected:
  void ExpectNothingHappened(const TandemRun& run) {
    EXPECT_TRUE(Requests().empty()) << "tandem called the model";
    EXPECT_EQ(Git("status --porcelain"), "");
    EXPECT_TRUE(run.Events("run_started").empty());
    EXPECT_FALSE(std::filesystem::exists(LedgerPath()));
  }
};

TEST_F(BadInputTest, MalformedVerifyMdExitsTwoNamingTheLine) {
  MakeSlugifyRepo();
  WriteFile("verify.md", "# Verify\n\n## test (each step, nightly)\n```sh\nsh test.sh\n```\n");
  CommitAll("bad gates");
  StartServer(Script({Finish(kAnyTurn)}));

  TandemRun run = Do("make test.sh pass");

  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("verify.md: line 3"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("nightly"), std::string::npos) << run.err;
  ExpectNothingHappened(run);
}

TEST_F(BadInputTest, MalformedConfigExitsTwoNamingFileLineAndKey) {
  MakeSlugifyRepo();
  StartServer(Script({Finish(kAnyTurn)}));
  WriteFile(".tandem/config.toml",
            "[providers.local]\n"
            "wire = \"openai\"\n"
            "base_url = \"" +
                server().base_url() +
                "\"\n"
                "[models.scripted]\n"
                "provider = \"local\"\n"
                "[roles]\n"
                "executor = \"scripted\"\n"
                "[limits]\n"
                "max_steps = \"lots\"\n");

  TandemRun run = Do("make test.sh pass");

  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find(".tandem/config.toml:9: limits.max_steps"), std::string::npos) << run.err;
  ExpectNothingHappened(run);
}

TEST_F(BadInputTest, BadOverrideExitsTwoNamingTheKey) {
  MakeSlugifyRepo();
  StartServer(Script({Finish(kAnyTurn)}));

  TandemRun run = Do("make test.sh pass", {"--set", "limits.step_retries=many"});

  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("limits.step_retries"), std::string::npos) << run.err;
  ExpectNothingHappened(run);
}

}  // namespace
}  // namespace tandem::e2e
