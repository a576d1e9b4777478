#include "tandem/protocol/vocabulary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace tandem::protocol {
namespace {

TEST(VocabularyTest, EveryTaskStateRoundTripsThroughItsSpelling) {
  std::set<std::string> seen;
  for (TaskState s : {TaskState::kPending, TaskState::kRunning, TaskState::kDone,
                      TaskState::kFailed, TaskState::kSkipped, TaskState::kWaiting}) {
    EXPECT_TRUE(seen.insert(std::string(Name(s))).second) << Name(s);
    auto parsed = ParseTaskState(Name(s));
    ASSERT_TRUE(parsed.has_value()) << Name(s);
    EXPECT_EQ(*parsed, s);
  }
}

TEST(VocabularyTest, EveryVariantStateRoundTripsThroughTheLedgersSpelling) {
  // The variants table (schema v4) has stored these spellings since it was made.
  const std::pair<VariantState, std::string_view> spellings[] = {
      {VariantState::kRunning, "running"},     {VariantState::kPassed, "passed"},
      {VariantState::kFailed, "failed"},       {VariantState::kCancelled, "cancelled"},
      {VariantState::kInterrupted, "interrupted"}, {VariantState::kError, "error"}};
  for (const auto& [state, spelling] : spellings) {
    EXPECT_EQ(Name(state), spelling);
    auto parsed = ParseVariantState(spelling);
    ASSERT_TRUE(parsed.has_value()) << spelling;
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_EQ(Name(ComparisonDecider::kReviewer), "reviewer");
  EXPECT_EQ(Name(ComparisonDecider::kScore), "score");
  EXPECT_EQ(*ParseComparisonDecider("reviewer"), ComparisonDecider::kReviewer);
  EXPECT_EQ(*ParseComparisonDecider("score"), ComparisonDecider::kScore);
  EXPECT_FALSE(ParseComparisonDecider("coin").has_value());
  auto unknown = ParseVariantState("picked");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("'picked'"), std::string::npos);
}

TEST(VocabularyTest, ALedgerWrittenByAnEarlierVersionReadsWaitingApprovalAsWaiting) {
  auto parsed = ParseTaskState("waiting_approval");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, TaskState::kWaiting);
}

TEST(VocabularyTest, AnUnknownSpellingIsAnErrorNamingIt) {
  auto parsed = ParseVerdict("maybe");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("'maybe'"), std::string::npos);
  EXPECT_FALSE(ParseEscalationAction("rewrite").has_value());  // the spelling is "replan"
}

TEST(VocabularyTest, EscalationActionsKeepTheSpellingsEventsHaveAlwaysUsed) {
  EXPECT_EQ(Name(EscalationAction::kRewrite), "replan");
  EXPECT_EQ(Name(EscalationAction::kSplit), "split");
  EXPECT_EQ(Name(EscalationAction::kSlowTier), "escalate");
  EXPECT_EQ(*ParseEscalationAction("escalate"), EscalationAction::kSlowTier);
}

TEST(VocabularyTest, EachOutcomeMapsToItsDocumentedExitCode) {
  EXPECT_EQ(ExitCodeFor(Outcome::kSucceeded), 0);
  EXPECT_EQ(ExitCodeFor(Outcome::kFailed), 1);
  EXPECT_EQ(ExitCodeFor(Outcome::kLimit), 1);
  EXPECT_EQ(ExitCodeFor(Outcome::kProviderError), 3);
  EXPECT_EQ(ExitCodeFor(Outcome::kError), 4);
  EXPECT_EQ(ExitCodeFor(Outcome::kInterrupted), 130);
}

}  // namespace
}  // namespace tandem::protocol

namespace tandem::protocol {
namespace {

TEST(VocabularyTest, AReviewPolicyIsOneNameOrAListJoinedByCommaOrPlus) {
  ReviewPolicy both = *ParseReviewPolicy("irreversible,large");
  EXPECT_TRUE(both.irreversible && both.large && !both.always);
  EXPECT_EQ(*ParseReviewPolicy("large + irreversible"), both);
  EXPECT_EQ(Name(both), "irreversible,large");
  EXPECT_TRUE(ParseReviewPolicy("always")->always);
  EXPECT_TRUE(ParseReviewPolicy("never")->never());
  EXPECT_EQ(Name(*ParseReviewPolicy("large")), "large");
  EXPECT_EQ(ReviewPolicy{}, both);  // the default
}

TEST(VocabularyTest, AReviewPolicyRefusesUnknownNamesAndNeverCombined) {
  auto typo = ParseReviewPolicy("irreversible,lrage");
  ASSERT_FALSE(typo.has_value());
  EXPECT_NE(typo.error().message().find("'lrage'"), std::string::npos);
  auto mixed = ParseReviewPolicy("never,always");
  ASSERT_FALSE(mixed.has_value());
  EXPECT_NE(mixed.error().message().find("never cannot be combined"), std::string::npos);
  EXPECT_FALSE(ParseReviewPolicy("").has_value());
}

}  // namespace
}  // namespace tandem::protocol
