#include "tandem/orchestrator/plan_edit.h"

#include <gtest/gtest.h>

#include "tandem/orchestrator/planner.h"

namespace tandem::orchestrator {
namespace {

constexpr const char* kPlan = R"(# Plan: demo

Some prose a person wrote.

- [x] T1: First
  - do: one
  - after: —

- [~] T2: Second
  - do: two
    more of two
  - scope: src/b.cc
  - after: T1

- [ ] T3: Third
  - do: three
  - after: T1, T2
)";

memory::PlanTask Part(std::string id, std::vector<std::string> after) {
  memory::PlanTask t;
  t.id = std::move(id);
  t.title = "part " + t.id;
  t.what = "do " + t.id;
  t.after = std::move(after);
  return t;
}

TEST(PlanEdit, SplitInsertsPartsAndRetargetsDependents) {
  auto out = SplitTaskInText(kPlan, "T2", {Part("T2a", {}), Part("T2b", {"T2a"})});
  ASSERT_TRUE(out.has_value()) << out.error().message();
  auto plan = memory::ParsePlan(*out);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->tasks.size(), 5u);
  EXPECT_EQ(plan->tasks[1].id, "T2");
  EXPECT_EQ(plan->tasks[1].state, memory::TaskState::kSkipped);
  EXPECT_EQ(plan->tasks[2].id, "T2a");
  EXPECT_EQ(plan->tasks[2].after, std::vector<std::string>({"T1"}));
  EXPECT_EQ(plan->tasks[3].after, std::vector<std::string>({"T1", "T2a"}));
  EXPECT_EQ(plan->tasks[4].after, std::vector<std::string>({"T1", "T2a", "T2b"}));
  EXPECT_NE(out->find("Some prose a person wrote."), std::string::npos);
  EXPECT_EQ(memory::ReadyTasks(*plan).front()->id, "T2a");
}

TEST(PlanEdit, SplitRefusesATakenId) {
  auto out = SplitTaskInText(kPlan, "T2", {Part("T3", {}), Part("T4", {})});
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().message().find("already used"), std::string::npos);
}

TEST(PlanEdit, RewriteKeepsIdPlaceAndDependencies) {
  memory::PlanTask t = Part("X", {});
  t.title = "Second, clearer";
  auto out = RewriteTaskInText(kPlan, "T2", t);
  ASSERT_TRUE(out.has_value()) << out.error().message();
  auto plan = memory::ParsePlan(*out);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->tasks.size(), 3u);
  EXPECT_EQ(plan->tasks[1].id, "T2");
  EXPECT_EQ(plan->tasks[1].title, "Second, clearer");
  EXPECT_EQ(plan->tasks[1].state, memory::TaskState::kPending);
  EXPECT_EQ(plan->tasks[1].after, std::vector<std::string>({"T1"}));
  EXPECT_EQ(plan->tasks[2].after, std::vector<std::string>({"T1", "T2"}));
}

TEST(ParseReplan, SplitDropsDependenciesOutsideTheParts) {
  auto r = ParseReplan(
      "SPLIT: too big\n\n- [ ] T2a: A\n  - do: a\n  - after: T1\n\n- [ ] T2b: B\n  - do: b\n"
      "  - after: T2a, T1\n",
      "T2");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->action, EscalationAction::kSplit);
  EXPECT_EQ(r->reason, "too big");
  ASSERT_EQ(r->tasks.size(), 2u);
  EXPECT_TRUE(r->tasks[0].after.empty());
  EXPECT_EQ(r->tasks[1].after, std::vector<std::string>({"T2a"}));
}

TEST(ParseReplan, EscalateNeedsNoBlocksAndGarbageIsAnError) {
  auto r = ParseReplan("ESCALATE: needs a smarter model", "T2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->action, EscalationAction::kSlowTier);
  auto bad = ParseReplan("Maybe try harder?", "T2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("expected REWRITE, SPLIT or ESCALATE"), std::string::npos);
}

TEST(ExtractPlanText, TakesTheFencedBlockHoldingTasks) {
  std::string text =
      ExtractPlanText("Here it is:\n```markdown\n# Plan: x\n\n- [ ] T1: a\n  - do: b\n```\nDone.");
  EXPECT_EQ(text, "# Plan: x\n\n- [ ] T1: a\n  - do: b\n");
}

}  // namespace
}  // namespace tandem::orchestrator
