// Review before done end to end (issue 11): the reviewer role reads a
// task's final change and answers through the review_verdict tool; an
// approval makes the task done, a request for changes goes back to the
// executor like a failed gate (and is fixed), and a change the reviewer
// keeps rejecting fails and escalates.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr char kReviewerSystem[] = "You are the reviewer of tandem";
const char kRightEdit[] = "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'";

// A reviewer's answer; `when_contains` narrows it to requests holding that text.
json ReviewTurn(json arguments, const std::string& when_contains = "") {
  json turn = {{"when", {{"system_contains", kReviewerSystem}}},
               {"tool_calls", json::array({Call("review_verdict", std::move(arguments))})}};
  if (!when_contains.empty()) turn["when"]["any_message_contains"] = when_contains;
  return turn;
}

json Approve() {
  return {{"verdict", "approve"},
          {"commit_subject", "Lower-case slugs and squeeze repeated dashes"},
          {"commit_body", "Slugs are used in URLs, which are case-insensitive by convention."}};
}

json RequestChanges(const std::string& reason) {
  return {{"verdict", "request_changes"},
          {"reasons", {reason}},
          {"places", {{{"path", "slugify.sh"}, {"line", 3}, {"note", "the pipeline"}}}}};
}

bool IsReview(const json& request) {
  return request["body"].dump().find(kReviewerSystem) != std::string::npos;
}

std::vector<json> ReviewRequests(const std::vector<json>& requests) {
  std::vector<json> out;
  for (const json& r : requests) {
    if (IsReview(r)) out.push_back(r);
  }
  return out;
}

json EditSlugify() {
  return Call("edit_file",
              {{"path", "slugify.sh"}, {"old_text", "tr ' ' '-'"}, {"new_text", kRightEdit}});
}

class ReviewTest : public E2eTest {};

TEST_F(ReviewTest, AnApprovedChangeIsDoneAndTheReviewerSawTaskDiffGatesAndAgentsMd) {
  MakeSlugifyRepo();
  WriteFile("AGENTS.md", "Scripts stay POSIX sh: AGENTS-RULE-7.\n");
  CommitAll("agents");
  StartServer(Script({ReviewTurn(Approve()), Turn(0, {EditSlugify()}), Finish(1, "lowercased")}));

  TandemRun run = Do("make test.sh pass", {"--set", "review.policy=always"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto reviews = run.Events("review_finished");
  ASSERT_EQ(reviews.size(), 1u) << run.Describe();
  EXPECT_EQ(reviews[0].value("verdict", ""), "approve");
  EXPECT_EQ(reviews[0].value("review", 0), 1);
  auto review_requests = ReviewRequests(Requests());
  ASSERT_EQ(review_requests.size(), 1u);
  std::string seen = review_requests[0]["body"].dump();
  EXPECT_NE(seen.find("make test.sh pass"), std::string::npos) << seen;       // the task
  EXPECT_NE(seen.find("+echo"), std::string::npos) << seen;  // the diff
  EXPECT_NE(seen.find("tr '[:upper:]' '[:lower:]'"), std::string::npos) << seen;
  EXPECT_NE(seen.find("- test: pass"), std::string::npos) << seen;           // the gates
  EXPECT_NE(seen.find("AGENTS-RULE-7"), std::string::npos) << seen;          // AGENTS.md
  EXPECT_NE(seen.find("review_verdict"), std::string::npos) << seen;         // the tool
  EXPECT_EQ(LedgerValue("SELECT verdict || ' ' || n FROM reviews"), "approve 1");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM model_calls WHERE role = 'reviewer'"), "1");
}

TEST_F(ReviewTest, RequestedChangesReachTheExecutorAndTheFixIsApproved) {
  MakeSlugifyRepo();
  StartServer(Script({
      // The second review sees the first one's reasons and approves.
      ReviewTurn(Approve(), "Earlier reviews of this task requested changes"),
      ReviewTurn(RequestChanges("document the slug rule in NOTES.md REASON-42")),
      Turn(0, {EditSlugify()}),
      Finish(1, "lowercased"),
      Turn(2, {Call("write_file", {{"path", "NOTES.md"}, {"content", "slugs: lower-case\n"}})}),
      Finish(3, "documented"),
  }));

  TandemRun run = Do("make test.sh pass", {"--set", "review.policy=always"});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto reviews = run.Events("review_finished");
  ASSERT_EQ(reviews.size(), 2u) << run.Describe();
  EXPECT_EQ(reviews[0].value("verdict", ""), "request_changes");
  EXPECT_NE(reviews[0].value("reasons", "").find("REASON-42"), std::string::npos);
  EXPECT_EQ(reviews[1].value("verdict", ""), "approve");
  EXPECT_EQ(run.Finished().value("retries", -1), 1);
  // The executor's request after the rejection carries the reasons and the place.
  auto requests = Requests();
  int executor_saw = 0;
  for (const json& r : requests) {
    if (IsReview(r)) continue;
    std::string body = r["body"].dump();
    if (body.find("REASON-42") != std::string::npos &&
        body.find("slugify.sh:3") != std::string::npos) {
      executor_saw++;
    }
  }
  EXPECT_GE(executor_saw, 1) << "the executor never got the reviewer's reasons";
  auto review_requests = ReviewRequests(requests);
  ASSERT_EQ(review_requests.size(), 2u);
  EXPECT_NE(review_requests[1]["body"].dump().find("REASON-42"), std::string::npos);
  EXPECT_NE(review_requests[1]["body"].dump().find("+slugs: lower-case"), std::string::npos);
  EXPECT_EQ(ReadFile("NOTES.md"), "slugs: lower-case\n");
  EXPECT_EQ(LedgerValue("SELECT group_concat(verdict, ',') FROM (SELECT verdict FROM reviews "
                        "ORDER BY n)"),
            "request_changes,approve");

  TandemRun stats = RunTandem({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json figures = json::parse(stats.out)["reviews"];
  EXPECT_EQ(figures.value("reviews", 0), 2) << figures.dump();
  EXPECT_EQ(figures.value("rejected", 0), 1);
  EXPECT_EQ(figures.value("tasks_fixed", 0), 1);
  EXPECT_DOUBLE_EQ(figures.value("fixed_rate", 0.0), 1.0);
}

TEST_F(ReviewTest, AChangeTheReviewerKeepsRejectingFailsAndEscalates) {
  MakePassingRepo();
  // The plan task asks for a review although the configuration says never.
  WriteFile("plan.md", "# Plan: reviewed\n\n" +
                           TaskBlock("T1", "Notes", "Write notes.txt [notes]",
                                     "  - review: always\n"));
  CommitAll("plan");
  std::vector<json> turns = {ReviewTurn(RequestChanges("never good enough REASON-9")),
                             ReplanTurn("ESCALATE: the reviewer keeps rejecting it")};
  for (auto& t : WriteThenFinish("[notes]", "notes.txt", "n\n")) turns.push_back(t);
  turns.push_back(TaskTurn("[notes]", kAnyTurn, {Call("finish", {{"summary", "done again"}})}));
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json", "--set", "limits.step_retries=1"});

  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(ReadFile("plan.md").find("- [!] T1: Notes"), std::string::npos) << ReadFile("plan.md");
  auto escalated = run.Events("escalated");
  ASSERT_FALSE(escalated.empty()) << run.Describe();
  bool named = false;
  for (const json& t : run.Events("task_finished")) {
    named |= t.value("summary", "").find("the reviewer requested changes") != std::string::npos;
  }
  EXPECT_TRUE(named) << run.Describe();
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM reviews WHERE verdict != 'request_changes'"), "0");
  EXPECT_GE(std::stoi(LedgerValue("SELECT count(*) FROM reviews")), 2);
  EXPECT_EQ(LedgerValue("SELECT state FROM tasks WHERE task_id = 'T1'"), "failed");
}

TEST_F(ReviewTest, PolicyNeverAsksNoReviewerAndTheDefaultSkipsASmallReversibleChange) {
  MakeSlugifyRepo();
  SetReviewPolicy("");  // the built-in default: irreversible + large
  StartServer(Script({ReviewTurn(RequestChanges("must not be asked")), Turn(0, {EditSlugify()}),
                      Finish(1, "lowercased")}));

  TandemRun run = Do("make test.sh pass");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(run.Events("review_finished").empty()) << run.Describe();
  EXPECT_TRUE(ReviewRequests(Requests()).empty());

  // review.large_lines = 0: every change is large, so the default reviews it.
  Git("checkout -- slugify.sh");
  TandemRun large = Do("make test.sh pass",
                       {"--set", "review.large_lines=0", "--set", "limits.step_retries=0"});
  EXPECT_EQ(large.exit_code, 1) << large.Describe();  // the reviewer above always rejects
  EXPECT_FALSE(large.Events("review_finished").empty()) << large.Describe();
}

}  // namespace
}  // namespace tandem::e2e

namespace tandem::e2e {
namespace {

class CommitTest : public E2eTest {
 protected:
  const std::map<std::string, std::string> kIdentity = {
      {"GIT_COMMITTER_NAME", "Committer"}, {"GIT_COMMITTER_EMAIL", "committer@example.com"}};

  void MakeNotesPlan() {
    MakePassingRepo();
    WriteFile("plan.md", "# Plan: notes\n\n" + TaskBlock("T1", "Notes", "Write notes.txt [notes]"));
    CommitAll("plan");
  }
};

TEST_F(CommitTest, CommitsExactlyTheTasksChangeWithTheReviewersMessage) {
  MakeNotesPlan();
  std::string before = Git("rev-parse HEAD");
  // The user's own unfinished edit, which must stay out of the commit.
  WriteFile("README.md", "# sample\nmy own edit\n");
  std::vector<json> turns = {ReviewTurn(Approve())};
  for (auto& t : WriteThenFinish("[notes]", "notes.txt", "n\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun run = RunTandem({"run", "--json", "--commit", "--set",
                             "commit.author=Reviewed Change <change@example.com>"},
                            kIdentity);

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(Git("rev-parse HEAD~1"), before);
  EXPECT_EQ(Git("diff-tree --no-commit-id --name-only -r HEAD"), "notes.txt\n");
  EXPECT_EQ(Git("log -1 --format=%s"), "Lower-case slugs and squeeze repeated dashes\n");
  EXPECT_NE(Git("log -1 --format=%b").find("case-insensitive by convention"), std::string::npos);
  EXPECT_EQ(Git("log -1 '--format=%an <%ae>'"), "Reviewed Change <change@example.com>\n");
  EXPECT_EQ(Git("show HEAD:notes.txt"), "n\n");
  // The user's edit and tandem's plan.md/progress.md are left uncommitted.
  std::string status = Git("status --porcelain");
  EXPECT_NE(status.find(" M README.md"), std::string::npos) << status;
  EXPECT_EQ(status.find("notes.txt"), std::string::npos) << status;
  EXPECT_TRUE(run.HasNotice("committed ")) << run.Describe();
}

TEST_F(CommitTest, APreCommitHookThatRefusesIsAFailedGateAndTheFixIsCommitted) {
  MakeNotesPlan();
  WriteFile(".git/hooks/pre-commit",
            "#!/bin/sh\nif git show :notes.txt | grep -q bad; then echo HOOK-SAYS-NO; exit 1; fi\n",
            true);
  std::string before = Git("rev-parse HEAD");
  StartServer(Script({
      ReviewTurn(Approve()),
      TaskTurn("[notes]", 0, {Call("write_file", {{"path", "notes.txt"}, {"content", "bad\n"}})}),
      TaskTurn("[notes]", 1, {Call("finish", {{"summary", "wrote"}})}),
      TaskTurn("[notes]", 2, {Call("write_file", {{"path", "notes.txt"}, {"content", "good\n"}})}),
      TaskTurn("[notes]", 3, {Call("finish", {{"summary", "fixed"}})}),
  }));

  TandemRun run = RunTandem({"run", "--json", "--commit"}, kIdentity);

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  int saw_hook = 0;
  for (const json& r : Requests()) {
    if (!IsReview(r) && r["body"].dump().find("HOOK-SAYS-NO") != std::string::npos) saw_hook++;
  }
  EXPECT_GE(saw_hook, 1) << "the executor never saw the hook's output";
  EXPECT_EQ(Git("rev-list --count " + before.substr(0, before.find('\n')) + "..HEAD"), "1\n");
  EXPECT_EQ(Git("show HEAD:notes.txt"), "good\n");
  EXPECT_EQ(run.Events("review_finished").size(), 2u) << run.Describe();
}

TEST_F(CommitTest, WithoutCommitHeadAndIndexAreUntouchedAndParallelRunsAreRefused) {
  MakeNotesPlan();
  std::string before = Git("rev-parse HEAD");
  std::vector<json> turns = {ReviewTurn(Approve())};
  for (auto& t : WriteThenFinish("[notes]", "notes.txt", "n\n")) turns.push_back(t);
  StartServer(Script(turns));

  TandemRun refused = RunTandem(
      {"run", "--json", "--commit", "--set", "limits.parallel_tasks=2"}, kIdentity);
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  EXPECT_NE(refused.err.find("--commit needs limits.parallel_tasks = 1"), std::string::npos);

  TandemRun run = RunTandem({"run", "--json", "--set", "review.policy=always"}, kIdentity);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.Events("review_finished").size(), 1u);
  EXPECT_EQ(Git("rev-parse HEAD"), before);
  EXPECT_EQ(Git("diff --cached --name-only"), "");
}

}  // namespace
}  // namespace tandem::e2e
