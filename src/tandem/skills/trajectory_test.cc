#include "tandem/skills/trajectory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tandem/base/redact.h"

namespace tandem::skills {
namespace {
namespace fs = std::filesystem;

Attempt SampleAttempt() {
  Attempt a;
  a.run_id = "20261203-010203-ab12";
  a.task_id = "T1";
  a.kind = "run";
  a.goal = "make the slugify test pass";
  a.scope = {"slugify.sh"};
  a.model = "fast";
  a.skills = {"slug-rules"};
  a.gates = {{"test", "each step", "sh test.sh"}};
  a.base_checkpoint = std::string(40, 'a');
  a.started_ms = 1234;
  TrajectoryEntry reply;
  reply.kind = EntryKind::kAssistant;
  reply.step = 1;
  reply.text = "fixing";
  reply.calls = {{"call_1", "write_file", R"({"path":"slugify.sh","content":"x"})"}};
  TrajectoryEntry result;
  result.kind = EntryKind::kToolResult;
  result.step = 1;
  result.id = "call_1";
  result.name = "write_file";
  result.text = "wrote 1 line";
  TrajectoryEntry gate;
  gate.kind = EntryKind::kGate;
  gate.step = 1;
  gate.name = "test";
  gate.verdict = protocol::Verdict::kFail;
  gate.text = "FAIL: expected a-b";
  TrajectoryEntry rollback;
  rollback.kind = EntryKind::kRollback;
  rollback.step = 1;
  rollback.text = "gate 'test' failed";
  TrajectoryEntry diff;
  diff.kind = EntryKind::kDiff;
  diff.step = 2;
  diff.text = "--- a/slugify.sh\n+++ b/slugify.sh\n";
  a.entries = {reply, result, gate, rollback, diff};
  a.ended = true;
  a.outcome = protocol::Outcome::kSucceeded;
  a.summary = "fixed";
  a.steps = 2;
  a.retries = 1;
  a.tokens_in = 900;
  a.tokens_out = 80;
  a.cost_usd = 0.25;
  a.wall_ms = 4200;
  a.final_checkpoint = std::string(40, 'b');
  return a;
}

TEST(Trajectory, AnAttemptReadsBackAsWritten) {
  Attempt a = SampleAttempt();
  auto parsed = ParseTrajectory(RenderAttempt(a));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 1u);
  const Attempt& b = (*parsed)[0];
  EXPECT_EQ(b.run_id, a.run_id);
  EXPECT_EQ(b.task_id, "T1");
  EXPECT_EQ(b.goal, a.goal);
  EXPECT_EQ(b.scope, a.scope);
  EXPECT_EQ(b.skills, a.skills);
  ASSERT_EQ(b.gates.size(), 1u);
  EXPECT_EQ(b.gates[0].command, "sh test.sh");
  ASSERT_EQ(b.entries.size(), 5u);
  EXPECT_EQ(b.entries[0].calls[0].arguments, a.entries[0].calls[0].arguments);
  EXPECT_EQ(b.entries[1].name, "write_file");
  EXPECT_EQ(b.entries[2].verdict, protocol::Verdict::kFail);
  EXPECT_EQ(b.entries[3].text, "gate 'test' failed");
  EXPECT_EQ(b.entries[4].kind, EntryKind::kDiff);
  EXPECT_TRUE(b.ended);
  EXPECT_EQ(b.outcome, protocol::Outcome::kSucceeded);
  EXPECT_EQ(b.retries, 1);
  EXPECT_EQ(b.final_checkpoint, a.final_checkpoint);
}

TEST(Trajectory, SecretsAreRedactedInEveryField) {
  const std::string registered = "trajectory-canary-5d1e77";
  Redactor::Register(registered);
  const std::string shaped = "ghp_TrajCanary0123456789abcdefABCDEF0123";
  Attempt a = SampleAttempt();
  a.goal += " " + shaped;
  a.entries[0].calls[0].arguments = R"({"command":"echo )" + registered + R"("})";
  a.entries[1].text = "token=" + shaped;
  a.entries[2].text = registered;
  a.entries[4].text = "+TOKEN=" + registered + "\n";
  a.summary = registered;

  std::string text = RenderAttempt(a);

  EXPECT_EQ(text.find(registered), std::string::npos) << text;
  EXPECT_EQ(text.find(shaped), std::string::npos) << text;
  EXPECT_NE(text.find("[REDACTED]"), std::string::npos);
  EXPECT_TRUE(ParseTrajectory(text).has_value());
}

TEST(Trajectory, LongTextsKeepTheirHeadAndTail) {
  Attempt a = SampleAttempt();
  a.entries[1].text = "HEAD" + std::string(100000, 'x') + "TAIL";
  auto parsed = ParseTrajectory(RenderAttempt(a));
  ASSERT_TRUE(parsed.has_value());
  const std::string& kept = (*parsed)[0].entries[1].text;
  EXPECT_LE(kept.size(), kMaxEntryBytes + 100);
  EXPECT_TRUE(kept.starts_with("HEAD"));
  EXPECT_TRUE(kept.ends_with("TAIL"));
  EXPECT_NE(kept.find("bytes left out"), std::string::npos);
}

TEST(Trajectory, InvalidUtf8IsRepairedNotRefused) {
  Attempt a = SampleAttempt();
  a.entries[1].text = std::string("bad \xff\xfe bytes");
  auto parsed = ParseTrajectory(RenderAttempt(a));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_NE((*parsed)[0].entries[1].text.find("bytes"), std::string::npos);
}

TEST(Trajectory, AttemptsAppendAndAKilledOneHasNoEnd) {
  fs::path dir = fs::temp_directory_path() / ("trajectory_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::path path = dir / "run/task-T1.jsonl";
  Attempt first = SampleAttempt();
  first.outcome = protocol::Outcome::kFailed;
  ASSERT_TRUE(AppendAttempt(path, first).ok());
  Attempt second = SampleAttempt();
  ASSERT_TRUE(AppendAttempt(path, second).ok());
  Attempt killed = SampleAttempt();
  killed.ended = false;
  ASSERT_TRUE(AppendAttempt(path, killed).ok());

  auto attempts = ReadTrajectory(path);
  ASSERT_TRUE(attempts.has_value()) << attempts.error().message();
  ASSERT_EQ(attempts->size(), 3u);
  EXPECT_EQ((*attempts)[0].outcome, protocol::Outcome::kFailed);
  EXPECT_EQ((*attempts)[1].outcome, protocol::Outcome::kSucceeded);
  EXPECT_FALSE((*attempts)[2].ended);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a trajectory is readable by others";
  fs::remove_all(dir);
}

TEST(Trajectory, AMalformedLineIsAnErrorNamingIt) {
  std::string text = RenderAttempt(SampleAttempt());
  text += "{\"type\":\"gate\",\"step\":\"two\"}\n";
  auto parsed = ParseTrajectory(text);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("trajectory line 8: 'step' must be an integer"),
            std::string::npos)
      << parsed.error().message();
  EXPECT_FALSE(ParseTrajectory("{\"type\":\"end\"}\n").has_value()) << "an end without an attempt";
  EXPECT_FALSE(ParseTrajectory("not json\n").has_value());
}

TEST(Trajectory, IdsThatCouldLeaveTheFolderAreRefused) {
  fs::path dir = fs::temp_directory_path() / ("trajectory_ids_" + std::to_string(::getpid()));
  fs::create_directories(dir / ".git");
  for (const char* bad : {"../x", "..", ".hidden", "a/b", ""}) {
    auto path = TrajectoryPath(dir, bad, "");
    EXPECT_FALSE(path.has_value()) << bad;
    EXPECT_FALSE(TrajectoryPath(dir, "run1", bad).has_value() && std::string(bad) != "") << bad;
  }
  auto ok = TrajectoryPath(dir, "20261203-010203-ab12", "T1.a_b-c");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->filename(), "task-T1.a_b-c.jsonl");
  EXPECT_EQ(TrajectoryPath(dir, "r", "")->filename(), "run.jsonl");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::skills
