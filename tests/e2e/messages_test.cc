// What the binary tells a person, end to end: each message says what is
// true and what to do next, once. `tandem run` without plan.md says how to
// make one; the first line of `tandem run` makes no claim it cannot back;
// Ctrl-C in `tandem do` promises no continuation; `tandem doctor` gives a
// hint once; the files `tandem init` writes explain themselves.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class MessagesTest : public E2eTest {};

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) n++;
  return n;
}

TEST_F(MessagesTest, RunWithoutPlanMdSaysHowToMakeOne) {
  MakePassingRepo();
  StartServer(Script({}));
  TandemRun run = RunTandem({"run"});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("no plan.md"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("tandem plan \"<goal>\""), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("- [ ] T1: <title>"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("- do: <what to do>"), std::string::npos) << run.err;
  EXPECT_TRUE(Requests().empty());
}

TEST_F(MessagesTest, RunsFirstLineMakesNoClaimAboutARequestItHasNotBuilt) {
  MakePassingRepo();
  WriteFile("plan.md", "# Plan: one file\n\n" + TaskBlock("T1", "Alpha", "Write alpha.txt [alpha]"));
  CommitAll("plan");
  std::vector<json> turns = WriteThenFinish("[alpha]", "alpha.txt", "alpha\n");
  for (auto& t : WriteThenFinish("[bee]", "b.txt", "b\n")) turns.push_back(t);
  StartServer(Script(turns));
  TandemRun run = RunTandem({"run"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  size_t start = run.out.find("tandem run · ");
  ASSERT_NE(start, std::string::npos) << run.out;
  std::string first_line = run.out.substr(start, run.out.find('\n', start) - start);
  EXPECT_EQ(first_line.find("first request"), std::string::npos) << first_line;
  EXPECT_EQ(run.out.find("~0 tokens"), std::string::npos) << run.out;
  // `tandem do` builds its first request before it starts, and says so.
  TandemRun done = RunTandem({"do", "write b.txt [bee]"});
  ASSERT_EQ(done.exit_code, 0) << done.Describe();
  EXPECT_NE(done.out.find("first request ~"), std::string::npos) << done.out;
  EXPECT_EQ(done.out.find("~0 tokens"), std::string::npos) << done.out;
}

TEST_F(MessagesTest, CtrlCInDoSaysWhatWasKeptAndPromisesNoContinuation) {
  MakePassingRepo();
  StartServer(KeptThenSlowCommandScript());
  TandemProcess process = SpawnTandem({"do", "slow work"});
  // The command runs once its marker exists (the terminal output carries no
  // events to wait for).
  ASSERT_TRUE(WaitForFile("started.marker", std::chrono::seconds(20)));
  ::kill(process.pid, SIGINT);
  TandemRun run = WaitTandem(process);
  ASSERT_EQ(run.exit_code, 130) << run.Describe();
  EXPECT_EQ(ReadFile("kept.txt"), "kept\n");
  EXPECT_FALSE(Exists("partial.txt"));
  EXPECT_NE(run.out.find("steps that finished are kept"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("was rolled back"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("is not continued"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("tandem undo"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("to continue"), std::string::npos) << run.out;
}

TEST_F(MessagesTest, DoctorGivesTheNoModelHintOnce) {
  WriteFile("README.md", "# x\n");
  CommitAll();
  TandemRun doctor = RunTandem({"doctor"}, {{"CEREBRAS_API_KEY", ""},
                                            {"GROQ_API_KEY", ""},
                                            {"OPENAI_API_KEY", ""},
                                            {"ANTHROPIC_API_KEY", ""}});
  // A local model server on this machine would serve every role.
  if (doctor.exit_code == 0) GTEST_SKIP() << "a local model server answered: " << doctor.out;
  EXPECT_EQ(doctor.exit_code, 2) << doctor.Describe();
  EXPECT_EQ(Count(doctor.out, "export an API key"), 1u) << doctor.out;
  EXPECT_NE(doctor.out.find("planner, executor, reviewer: no model is configured"),
            std::string::npos)
      << doctor.out;
}

TEST_F(MessagesTest, InitWritesFilesThatExplainThemselves) {
  WriteFile("README.md", "# x\n");
  CommitAll();
  TandemRun init = RunTandem({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  for (const char* name : {"AGENTS.md", "verify.md", "plan.md", "progress.md"}) {
    EXPECT_EQ(ReadFile(name).find("docs/"), std::string::npos) << name << ":\n" << ReadFile(name);
  }
  EXPECT_NE(ReadFile("plan.md").find("accept  `gates all`"), std::string::npos);
  EXPECT_NE(ReadFile("verify.md").find("## <name> (<options>)"), std::string::npos);
}

}  // namespace
}  // namespace tandem::e2e
