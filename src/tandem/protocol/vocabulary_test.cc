#include "tandem/protocol/vocabulary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

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
