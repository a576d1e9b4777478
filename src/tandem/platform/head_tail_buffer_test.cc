#include "tandem/platform/head_tail_buffer.h"

#include <gtest/gtest.h>

namespace tandem::platform {
namespace {

TEST(HeadTailBuffer, KeepsEverythingUpToTheLimit) {
  HeadTailBuffer b(10);
  b.Append("01234");
  b.Append("56789");
  EXPECT_FALSE(b.truncated());
  EXPECT_EQ(b.Take(), "0123456789");
}

TEST(HeadTailBuffer, JoinsHeadAndTailWithOmittedCount) {
  HeadTailBuffer b(10);
  for (char c = 'a'; c <= 'z'; ++c) b.Append(std::string(1, c));
  EXPECT_TRUE(b.truncated());
  EXPECT_EQ(b.total_bytes(), 26u);
  EXPECT_EQ(b.Take(), "abcde\n[... 16 bytes omitted ...]\nvwxyz");
}

TEST(HeadTailBuffer, HandlesOneHugeAppend) {
  HeadTailBuffer b(4);
  b.Append(std::string(100, 'x') + "END");
  EXPECT_EQ(b.Take(), "xx\n[... 99 bytes omitted ...]\nND");
}

TEST(HeadTailBuffer, ZeroLimitKeepsOnlyTheMarker) {
  HeadTailBuffer b(0);
  b.Append("abc");
  EXPECT_EQ(b.Take(), "\n[... 3 bytes omitted ...]\n");
}

}  // namespace
}  // namespace tandem::platform
