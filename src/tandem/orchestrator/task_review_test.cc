#include "tandem/orchestrator/task_review.h"

#include <gtest/gtest.h>

namespace tandem::orchestrator {
namespace {

using nlohmann::json;

TEST(TaskReview, ApproveCarriesTheCommitMessageWithASubjectUnder72Characters) {
  agent::ReviewResult r = ParseReviewVerdict(json{
      {"verdict", "approve"},
      {"commit_subject", std::string(100, 's') + "\nsecond line"},
      {"commit_body", "  Because the slug must be lower case.  "}});
  EXPECT_EQ(r.verdict, protocol::ReviewVerdict::kApprove);
  EXPECT_EQ(r.commit_subject, std::string(71, 's'));
  EXPECT_EQ(r.commit_body, "Because the slug must be lower case.");
}

TEST(TaskReview, RequestChangesKeepsReasonsAndPlaces) {
  agent::ReviewResult r = ParseReviewVerdict(json::parse(R"({
    "verdict": "request_changes", "reasons": ["handle empty input", ""],
    "places": [{"path": "slugify.sh", "line": 3, "note": "empty string"}, {"line": 2}]})"));
  EXPECT_EQ(r.verdict, protocol::ReviewVerdict::kRequestChanges);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"handle empty input"});
  ASSERT_EQ(r.places.size(), 1u);
  EXPECT_EQ(r.places[0].path, "slugify.sh");
  EXPECT_EQ(r.places[0].line, 3);
}

TEST(TaskReview, AVerdictTandemWouldHaveToGuessAtIsAnErrorSayingWhy) {
  EXPECT_EQ(ParseReviewVerdict(json{{"verdict", "lgtm"}}).verdict, protocol::ReviewVerdict::kError);
  EXPECT_EQ(ParseReviewVerdict(json::object()).verdict, protocol::ReviewVerdict::kError);
  agent::ReviewResult bare = ParseReviewVerdict(json{{"verdict", "request_changes"}});
  EXPECT_EQ(bare.verdict, protocol::ReviewVerdict::kError);
  ASSERT_EQ(bare.reasons.size(), 1u);
  EXPECT_EQ(bare.reasons[0], "the reviewer requested changes without a reason");
}

TEST(TaskReview, TheMessageShowsEarlierReasonsAndTheDiff) {
  agent::ReviewRequest request;
  request.task = "T1: fix slugify";
  request.diff = "diff --git a/slugify.sh b/slugify.sh\n+tr A-Z a-z\n";
  request.earlier_reasons = {"lower-case the slug"};
  std::string message = ReviewMessage(request);
  EXPECT_NE(message.find("T1: fix slugify"), std::string::npos);
  EXPECT_NE(message.find("- lower-case the slug"), std::string::npos);
  EXPECT_NE(message.find("+tr A-Z a-z"), std::string::npos);
}

}  // namespace
}  // namespace tandem::orchestrator
