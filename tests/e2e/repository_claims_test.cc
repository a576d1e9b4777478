// What a repository's own memory files may not do to `tandem run`
// (docs/GUARDRAILS.md, a malicious repository): bring a file from outside
// the repository into a prompt or into progress.md through a link, have work
// counted as done that tandem never verified, or get a committed file
// deleted by naming it like one of tandem's temporary files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class RepositoryClaimsTest : public E2eTest {
 protected:
  // Every recorded request body, concatenated.
  std::string AllRequests() const {
    std::string all;
    for (const auto& r : Requests()) all += r["body"].dump();
    return all;
  }
};

// plan.md -> a file elsewhere (a key, another project's plan): its tasks
// would go to the model. The run is refused before any model call, naming
// plan.md and where it leads; the target is untouched.
TEST_F(RepositoryClaimsTest, APlanMdLinkingOutOfTheRepositoryIsRefusedBeforeAnythingRuns) {
  const std::string outside = OutsidePath("elsewhere-plan.md");
  const std::string plan = "# Plan: x\n\n" + TaskBlock("T1", "PLAN-CANARY-4410", "Write a.txt [a]");
  std::ofstream(outside) << plan;
  MakePassingRepo();
  fs::create_symlink(outside, root() + "/plan.md");
  CommitAll("plan link");
  StartServer(Script(WriteThenFinish("[a]", "a.txt", "a\n")));

  TandemRun run = RunTandem({"run"});

  EXPECT_NE(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.err.find("plan.md leads outside the repository, to " +
                         fs::canonical(outside).string()),
            std::string::npos)
      << run.Describe();
  EXPECT_EQ(AllRequests().find("PLAN-CANARY-4410"), std::string::npos) << "the linked plan ran";
  EXPECT_FALSE(Exists("a.txt"));
  EXPECT_EQ(Slurp(outside), plan);
  EXPECT_TRUE(fs::is_symlink(root() + "/plan.md"));

  TandemRun status = RunTandem({"status"});
  EXPECT_NE(status.out.find("plan.md: plan.md leads outside the repository"), std::string::npos)
      << status.Describe();
  EXPECT_EQ(status.out.find("PLAN-CANARY-4410"), std::string::npos) << status.out;
}

// progress.md -> a file elsewhere: tandem read it, wrote its content into
// the repository's progress.md (the rename replaced the link) and sent its
// notes to the executor. The run is refused, naming progress.md; neither the
// target nor the link changes, and nothing reaches the model.
TEST_F(RepositoryClaimsTest, AProgressMdLinkingOutOfTheRepositoryIsNeitherReadNorWritten) {
  const std::string outside = OutsidePath("id_rsa");
  const std::string secret = "# Progress\n\n## Notes\n- note: PROGRESS-CANARY-3390\n";
  std::ofstream(outside) << secret;
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: x\n\n" + TaskBlock("T1", "First", "Write a.txt [a]"));
  fs::create_symlink(outside, root() + "/progress.md");
  CommitAll("progress link");
  StartServer(Script(WriteThenFinish("[a]", "a.txt", "a\n")));

  TandemRun run = RunTandem({"run"});

  EXPECT_NE(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.err.find("progress.md leads outside the repository"), std::string::npos)
      << run.Describe();
  EXPECT_EQ(AllRequests().find("PROGRESS-CANARY-3390"), std::string::npos)
      << "the linked file reached the model";
  EXPECT_EQ(Slurp(outside), secret);
  ASSERT_TRUE(fs::is_symlink(root() + "/progress.md")) << "the link was replaced by a copy";
  EXPECT_EQ(fs::read_symlink(root() + "/progress.md").string(), outside);

  // tandem steer writes progress.md too.
  TandemRun steer = RunTandem({"steer", "hello"});
  EXPECT_NE(steer.exit_code, 0) << steer.Describe();
  EXPECT_NE((steer.out + steer.err).find("progress.md leads outside the repository"),
            std::string::npos)
      << steer.Describe();
  EXPECT_EQ(Slurp(outside), secret);
}

// A committed `[x]` is a claim, not a record: tandem never saw T1's gates
// pass, so `tandem status` says so and `tandem run` runs it (its check
// fails until the executor does the work), warning why.
TEST_F(RepositoryClaimsTest, ADoneMarkTandemDidNotRecordIsNotTrustedAndTheTaskRuns) {
  MakePassingRepo();
  WriteFile("plan.md",
            "# Plan: two files\n\n" +
                TaskBlock("T1", "Create alpha", "Write alpha.txt [alpha]",
                          "  - accept: gates all; check `test -f alpha.txt`\n", "—", "x") +
                TaskBlock("T2", "Create beta", "Write beta.txt [beta]", "", "T1"));
  CommitAll("a plan with T1 marked done");
  std::vector<json> turns = WriteThenFinish("[alpha]", "alpha.txt", "alpha\n");
  for (auto& t : WriteThenFinish("[beta]", "beta.txt", "beta\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun before = RunTandem({"status", "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.Describe();
  json status = json::parse(before.out);
  EXPECT_EQ(status["plan"]["done"], 0) << status.dump();
  EXPECT_EQ(status["plan"]["tasks"][0]["state"], "done");
  EXPECT_EQ(status["plan"]["tasks"][0]["unverified"], true) << status.dump();
  EXPECT_EQ(status["unverified"], json::array({"T1"})) << status.dump();
  TandemRun text = RunTandem({"status"});
  EXPECT_NE(text.out.find("0/2 done · not verified: T1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("not verified by tandem"), std::string::npos) << text.out;

  TandemRun run = RunTandem({"run", "--json"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(run.HasNotice("task T1 is marked done in plan.md, but tandem has no record of "
                            "verifying it; it runs now"))
      << run.Describe();
  EXPECT_EQ(ReadFile("alpha.txt"), "alpha\n");
  EXPECT_EQ(ReadFile("beta.txt"), "beta\n");
  std::vector<std::string> finished;
  for (const json& e : run.Events("task_finished")) finished.push_back(e.value("task", ""));
  EXPECT_EQ(finished, (std::vector<std::string>{"T1", "T2"})) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T1'"), "done");
  EXPECT_NE(ReadFile("plan.md").find("- [x] T1: Create alpha"), std::string::npos);

  TandemRun after = RunTandem({"status"});
  EXPECT_NE(after.out.find("2/2 done\n"), std::string::npos) << after.out;
}

// The ledger is tandem's record across runs: a task an earlier run finished
// stays done in the next run, without a warning and without running again.
TEST_F(RepositoryClaimsTest, ADoneMarkAnEarlierRunRecordedIsKept) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: x\n\n" + TaskBlock("T1", "First", "Write one.txt [one]"));
  CommitAll("plan");
  std::vector<json> turns = WriteThenFinish("[one]", "one.txt", "1\n");
  for (auto& t : WriteThenFinish("[two]", "two.txt", "2\n")) turns.push_back(t);
  StartServer(Script(turns));
  TandemRun first = RunTandem({"run", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  const size_t requests_after_first = Requests().size();

  WriteFile("plan.md", ReadFile("plan.md") + "\n" + TaskBlock("T2", "Second", "Write two.txt [two]", "", "T1"));
  TandemRun second = RunTandem({"run", "--json"});

  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_FALSE(second.HasNotice("marked done in plan.md")) << second.Describe();
  ASSERT_EQ(second.Events("task_finished").size(), 1u) << second.Describe();
  EXPECT_EQ(second.Events("task_finished")[0].value("task", ""), "T2");
  EXPECT_EQ(CountRequests(Requests(), "[one]", 0), 1) << "T1 ran again";
  EXPECT_GT(Requests().size(), requests_after_first);
  EXPECT_EQ(ReadFile("two.txt"), "2\n");
}

// A pid that no process has: a child that exited and was reaped.
pid_t DeadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// tandem removes the temp files a killed writer left at the root when the
// next run starts. A committed file named like one must survive: the name
// is no proof that tandem made it.
TEST_F(RepositoryClaimsTest, AFileTheRepositoryTracksNamedLikeATandemTempSurvivesARun) {
  const std::string dead = std::to_string(DeadPid());
  const std::string committed = ".notes.tandem-tmp." + dead + ".0";
  const std::string leftover = ".plan.md.tandem-tmp." + dead + ".1";
  MakePassingRepo();
  WriteFile(committed, "the repository's own file\n");
  WriteFile("plan.md", "# Plan: x\n\n" + TaskBlock("T1", "First", "Write one.txt [one]"));
  CommitAll("a file named like a temp");
  WriteFile(leftover, "half a plan");  // what a killed tandem leaves: untracked
  StartServer(Script(WriteThenFinish("[one]", "one.txt", "1\n")));

  TandemRun run = RunTandem({"run"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile(committed), "the repository's own file\n") << "a tracked file was deleted";
  EXPECT_FALSE(Exists(leftover)) << "positive control: the real leftover is removed";
  EXPECT_EQ(Git("status --porcelain -- " + committed), "");
}

}  // namespace
}  // namespace tandem::e2e
