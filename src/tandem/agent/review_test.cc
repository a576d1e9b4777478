#include "tandem/agent/review.h"

#include <gtest/gtest.h>

namespace tandem::agent {
namespace {

ReviewSetup PolicyOf(std::string_view policy) {
  ReviewSetup setup;
  setup.reviewer = [](const ReviewRequest&) { return ReviewResult{}; };
  setup.policy = *protocol::ParseReviewPolicy(policy);
  setup.large_lines = 100;
  return setup;
}

TEST(ReviewDue, NeverWithoutAReviewer) {
  ReviewSetup setup = PolicyOf("always");
  setup.reviewer = nullptr;
  EXPECT_FALSE(ReviewDue(setup, 1000, true));
}

TEST(ReviewDue, EachPolicyValueSelectsItsChanges) {
  EXPECT_TRUE(ReviewDue(PolicyOf("always"), 1, false));
  EXPECT_FALSE(ReviewDue(PolicyOf("never"), 1000, true));
  EXPECT_FALSE(ReviewDue(PolicyOf("large"), 100, true));  // at the threshold: not over it
  EXPECT_TRUE(ReviewDue(PolicyOf("large"), 101, false));
  EXPECT_TRUE(ReviewDue(PolicyOf("irreversible"), 1, true));
  EXPECT_FALSE(ReviewDue(PolicyOf("irreversible"), 1000, false));
  ReviewSetup task = PolicyOf("irreversible");
  task.irreversible_task = true;
  EXPECT_TRUE(ReviewDue(task, 1, false));
  EXPECT_TRUE(ReviewDue(PolicyOf("irreversible,large"), 500, false));
}

TEST(ReviewFeedback, NamesEveryReasonAndPlace) {
  ReviewResult r;
  r.reasons = {"handle the empty string"};
  r.places = {{"slugify.sh", 3, "returns '-'"}};
  std::string text = ReviewFeedback(r);
  EXPECT_NE(text.find("- handle the empty string"), std::string::npos);
  EXPECT_NE(text.find("- at slugify.sh:3: returns '-'"), std::string::npos);
}

}  // namespace
}  // namespace tandem::agent
