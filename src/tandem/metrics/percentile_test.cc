#include "tandem/metrics/percentile.h"

#include <gtest/gtest.h>

namespace tandem::metrics {
namespace {

TEST(Percentile, NearestRankPicksAnObservedValue) {
  // n = 10: p50 rank ceil(5) = 5, p90 rank ceil(9) = 9 (sorted 1..10).
  std::vector<double> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(*Percentile(ten, 50), 5);
  EXPECT_EQ(*Percentile(ten, 90), 9);
  EXPECT_EQ(*Percentile(ten, 100), 10);
  // n = 3: p50 rank ceil(1.5) = 2, p90 rank ceil(2.7) = 3.
  EXPECT_EQ(*Percentile({300, 100, 200}, 50), 200);
  EXPECT_EQ(*Percentile({300, 100, 200}, 90), 300);
  // Even count: the lower middle value, not the mean of the two.
  EXPECT_EQ(*Percentile({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(*Percentile({42}, 90), 42);
}

TEST(Percentile, NoSamplesHasNoValue) { EXPECT_FALSE(Percentile({}, 50).has_value()); }

}  // namespace
}  // namespace tandem::metrics
