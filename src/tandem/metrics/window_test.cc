#include "tandem/metrics/window.h"

#include <gtest/gtest.h>

namespace tandem::metrics {
namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;

TEST(ParseSince, DurationsCountBackFromNow) {
  EXPECT_EQ(ParseSince("30m", kNowMs)->since_ms, kNowMs - 30 * 60'000);
  EXPECT_EQ(ParseSince("12h", kNowMs)->since_ms, kNowMs - 12 * 3'600'000LL);
  EXPECT_EQ(ParseSince("7d", kNowMs)->since_ms, kNowMs - 7 * 86'400'000LL);
  EXPECT_EQ(ParseSince("2w", kNowMs)->since_ms, kNowMs - 14 * 86'400'000LL);
  EXPECT_EQ(ParseSince("7d", kNowMs)->until_ms, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseSince("7d", kNowMs)->label, "since 7d ago");
}

TEST(ParseSince, DatesAreUtcMidnightOrMinute) {
  // `date -u -d 2026-11-01 +%s` = 1793491200
  EXPECT_EQ(ParseSince("2026-11-01", kNowMs)->since_ms, 1'793'491'200'000);
  // `date -u -d 2024-02-29T23:59 +%s` = 1709251140 (a leap day)
  EXPECT_EQ(ParseSince("2024-02-29T23:59", kNowMs)->since_ms, 1'709'251'140'000);
  EXPECT_EQ(ParseSince("1970-01-01", kNowMs)->since_ms, 0);
}

TEST(ParseSince, RejectsAnythingElseWithTheAcceptedForms) {
  for (const char* bad :
       {"", "d", "7", "7x", "-7d", "7 d", "2026-13-01", "2026-02-30", "2023-02-29", "2026-11-1",
        "2026-11-01 09:30", "2026-11-01T24:00", "2026-11-01T09:60"}) {
    auto parsed = ParseSince(bad, kNowMs);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.error().message().find("7d"), std::string::npos) << bad;
  }
}

TEST(AllTime, CoversEveryTimestamp) {
  Window all = AllTime();
  EXPECT_EQ(all.since_ms, 0);
  EXPECT_EQ(all.until_ms, std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace tandem::metrics
