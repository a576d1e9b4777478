#include "tandem/orchestrator/command_review.h"

#include <gtest/gtest.h>

namespace tandem::orchestrator {
namespace {

TEST(CommandReview, RunWithAReasonLetsTheCommandGoOnToApproval) {
  CommandReview r = ParseCommandReview("\n  RUN: the task is to tag the release\n");
  EXPECT_TRUE(r.run);
  EXPECT_EQ(r.reason, "the task is to tag the release");
}

TEST(CommandReview, RefuseCarriesItsReason) {
  CommandReview r = ParseCommandReview("refuse - not needed; edit the file instead\nmore text");
  EXPECT_FALSE(r.run);
  EXPECT_EQ(r.reason, "not needed; edit the file instead");
}

TEST(CommandReview, MarkdownAroundTheKeywordIsTolerated) {
  CommandReview r = ParseCommandReview("**RUN**: ok");
  EXPECT_TRUE(r.run);
  EXPECT_EQ(r.reason, "ok");
}

TEST(CommandReview, AGarbledAnswerIsARefusal) {
  for (const char* answer : {"Sure, go ahead!", "RUNNING it is", "", "  \n ", "yes"}) {
    CommandReview r = ParseCommandReview(answer);
    EXPECT_FALSE(r.run) << answer;
    EXPECT_NE(r.reason.find("refused"), std::string::npos) << answer;
  }
}

TEST(CommandReview, AKeywordWithoutAReasonGetsADefaultOne) {
  EXPECT_EQ(ParseCommandReview("RUN").reason, "the slow tier says run");
  EXPECT_EQ(ParseCommandReview("REFUSE:").reason, "the slow tier refused");
}

}  // namespace
}  // namespace tandem::orchestrator
