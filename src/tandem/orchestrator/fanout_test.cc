#include "tandem/orchestrator/fanout.h"

#include <gtest/gtest.h>

#include "tandem/workspace/worktree.h"

namespace tandem::orchestrator {
namespace {

using ledger::VariantRow;
using ledger::VariantState;

VariantRow Row(int64_t n, VariantState state, std::string tree, int64_t lines, int64_t files,
               int64_t gate_ms = 100, double cost = 0.01) {
  VariantRow v;
  v.run_id = "r";
  v.n = n;
  v.state = state;
  v.tree_hash = std::move(tree);
  v.lines_added = lines;
  v.files = files;
  v.gate_ms = gate_ms;
  v.cost_usd = cost;
  return v;
}

const VariantRow& Find(const std::vector<VariantRow>& rows, int64_t n) {
  for (const auto& r : rows) {
    if (r.n == n) return r;
  }
  ADD_FAILURE() << "no variant " << n;
  return rows.front();
}

TEST(RankVariants, AFailingVariantNeverRanksAboveAPassingOneHoweverSmall) {
  auto ranked = RankVariants({Row(1, VariantState::kFailed, "a", 1, 1, 1, 0.0001),
                              Row(2, VariantState::kPassed, "b", 500, 30, 9000, 3.0)});
  EXPECT_EQ(ranked[0].n, 2);
  EXPECT_EQ(*Find(ranked, 2).rank, 1);
  EXPECT_EQ(*Find(ranked, 1).rank, 2);
  EXPECT_FALSE(Find(ranked, 1).score.has_value());
  EXPECT_NE(Find(ranked, 1).reasons.find("below every passing"), std::string::npos);
}

TEST(RankVariants, SmallerCheaperFasterPassingVariantsScoreHigher) {
  auto ranked = RankVariants({Row(1, VariantState::kPassed, "big", 300, 6, 500, 0.05),
                              Row(2, VariantState::kPassed, "small", 4, 1, 100, 0.01),
                              Row(3, VariantState::kPassed, "mid", 40, 2, 200, 0.02)});
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].n, 2);
  EXPECT_EQ(ranked[1].n, 3);
  EXPECT_EQ(ranked[2].n, 1);
  EXPECT_DOUBLE_EQ(*ranked[0].score, 100.0);  // best on every measure
  EXPECT_DOUBLE_EQ(*ranked[2].score, 0.0);    // worst on every measure
  EXPECT_NE(ranked[0].reasons.find("smallest diff"), std::string::npos) << ranked[0].reasons;
}

TEST(RankVariants, IdenticalTreesAreOneCandidateLedByAPassingVariant) {
  auto ranked = RankVariants({Row(1, VariantState::kFailed, "same", 4, 1),
                              Row(2, VariantState::kPassed, "same", 4, 1),
                              Row(3, VariantState::kPassed, "same", 4, 1),
                              Row(4, VariantState::kPassed, "other", 4, 1)});
  EXPECT_FALSE(Find(ranked, 2).duplicate_of.has_value());
  EXPECT_EQ(*Find(ranked, 1).duplicate_of, 2);
  EXPECT_EQ(*Find(ranked, 3).duplicate_of, 2);
  EXPECT_FALSE(Find(ranked, 3).rank.has_value());
  // Equal scores: the tree more variants reached ranks first.
  EXPECT_EQ(*Find(ranked, 2).rank, 1);
  EXPECT_EQ(*Find(ranked, 4).rank, 2);
  EXPECT_NE(Find(ranked, 2).reasons.find("3 variants reached this tree"), std::string::npos);
}

TEST(RankVariants, RunningVariantsAreListedLastWithoutARank) {
  auto ranked = RankVariants({Row(1, VariantState::kRunning, "", 0, 0),
                              Row(2, VariantState::kCancelled, "", 0, 0),
                              Row(3, VariantState::kPassed, "t", 1, 1)});
  EXPECT_EQ(ranked.back().n, 1);
  EXPECT_FALSE(ranked.back().rank.has_value());
  EXPECT_EQ(*Find(ranked, 3).rank, 1);
  EXPECT_EQ(*Find(ranked, 2).rank, 2);
}

TEST(PlanVariants, SpreadsOverModelsFirstThenTemperatures) {
  auto plans = PlanVariants(7, 3, {});
  ASSERT_EQ(plans.size(), 7u);
  EXPECT_EQ(plans[0].model, 0u);
  EXPECT_EQ(plans[1].model, 1u);
  EXPECT_EQ(plans[2].model, 2u);
  EXPECT_EQ(plans[3].model, 0u);
  EXPECT_FALSE(plans[0].temperature.has_value());  // the first round: provider default
  EXPECT_FALSE(plans[2].temperature.has_value());
  EXPECT_DOUBLE_EQ(*plans[3].temperature, 0.4);
  EXPECT_DOUBLE_EQ(*plans[6].temperature, 0.8);
}

TEST(PlanVariants, ApproachesGoOnePerVariantAndCycle) {
  auto plans = PlanVariants(3, 1, {"recursive", "iterative"});
  EXPECT_EQ(plans[0].approach, "recursive");
  EXPECT_EQ(plans[1].approach, "iterative");
  EXPECT_EQ(plans[2].approach, "recursive");
}

TEST(ParseApproaches, ReadsNumberedItemsWithTheirContinuationLines) {
  auto items = ParseApproaches(
      "Here are some:\n1. Use a table\n   of lookups.\n2) Rewrite the loop\n\nNot an item\n3. Cache it");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], "Use a table of lookups.");
  EXPECT_EQ(items[1], "Rewrite the loop");
  EXPECT_EQ(items[2], "Cache it");
  EXPECT_TRUE(ParseApproaches("no list here").empty());
}

TEST(FanoutSlotId, ShortIdsStayReadableLongOnesGetAStableValidHash) {
  EXPECT_EQ(FanoutSlotId("20260103-120000-ab12", 3), "20260103-120000-ab12-slot-3");
  EXPECT_EQ(FanoutSlotId("20260103-120000-ab12.T1.1", 8), "20260103-120000-ab12.T1.1-slot-8");
  // A plan task's fan-out with a long task id: 20 + 1 + 56 + 2 characters.
  const std::string long_id =
      "20260103-120000-ab12.T1-migrate-the-date-parser-to-iso-weeks-in-every-command.1";
  ASSERT_FALSE(workspace::Worktree::IsValidId(long_id + "-slot-1"));
  std::string slot = FanoutSlotId(long_id, 1);
  EXPECT_TRUE(workspace::Worktree::IsValidId(slot)) << slot;
  EXPECT_LE(slot.size(), 64u);
  EXPECT_EQ(slot.rfind("20260103-120000-ab12.T1-", 0), 0u) << slot;
  EXPECT_TRUE(slot.ends_with("-slot-1")) << slot;  // what gc and resume look for
  EXPECT_EQ(FanoutSlotId(long_id, 1), slot);       // stable
  EXPECT_NE(FanoutSlotId(long_id, 2), slot);
  EXPECT_NE(FanoutSlotId(long_id + "2", 1), slot);  // another attempt, other slots
  EXPECT_TRUE(workspace::Worktree::IsValidId(FanoutSlotId(long_id, 75)));
  // plan.md allows ".." in a task id; a worktree id does not.
  std::string dots = FanoutSlotId("r.T1..2.1", 1);
  EXPECT_TRUE(workspace::Worktree::IsValidId(dots)) << dots;
}

}  // namespace
}  // namespace tandem::orchestrator
