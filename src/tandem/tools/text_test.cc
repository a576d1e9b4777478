#include "tandem/tools/text.h"

#include <gtest/gtest.h>

#include "tandem/tools/glob.h"

namespace tandem::tools {
namespace {

TEST(Utf8, AcceptsValidTextAndRejectsBrokenSequences) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut off
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("latin1 \xE9t\xE9"));
}

TEST(Utf8, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(SanitizeUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(SanitizeUtf8("ok \xE2\x82\xAC"), "ok \xE2\x82\xAC");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xC3\x28\xA0\xA1\xF0\x28\x8C\xBC")));
}

TEST(Utf8, LooksBinaryOnNulOrNonUtf8ButNotOnACutOffTail) {
  EXPECT_TRUE(LooksBinary(std::string("ab\0cd", 5)));
  EXPECT_TRUE(LooksBinary("caf\xE9 au lait"));
  EXPECT_FALSE(LooksBinary("text ending mid-char \xE2\x82"));
  EXPECT_FALSE(LooksBinary(""));
}

TEST(Utf8, TruncateNeverSplitsACharacter) {
  std::string s = "ab\xE2\x82\xAC";  // a b €
  EXPECT_EQ(Utf8Truncate(s, 3), "ab");
  EXPECT_EQ(Utf8Truncate(s, 5), s);
  EXPECT_EQ(Utf8Truncate(s, 100), s);
}

TEST(GlobMatch, BaseNamePatternsMatchAtAnyDepth) {
  EXPECT_TRUE(GlobMatch("*.py", "a.py"));
  EXPECT_TRUE(GlobMatch("*.py", "src/deep/a.py"));
  EXPECT_FALSE(GlobMatch("*.py", "src/a.pyc"));
  EXPECT_TRUE(GlobMatch("test_?.cc", "t/test_1.cc"));
  EXPECT_TRUE(GlobMatch("[ab]*.txt", "b1.txt"));
  EXPECT_FALSE(GlobMatch("[!ab]*.txt", "b1.txt"));
}

TEST(GlobMatch, PathPatternsAnchorAndDoubleStarCrossesDirectories) {
  EXPECT_TRUE(GlobMatch("src/*.cc", "src/a.cc"));
  EXPECT_FALSE(GlobMatch("src/*.cc", "src/x/a.cc"));
  EXPECT_TRUE(GlobMatch("src/**/*.cc", "src/a.cc"));
  EXPECT_TRUE(GlobMatch("src/**/*.cc", "src/x/y/a.cc"));
  EXPECT_TRUE(GlobMatch("**/test_*", "a/b/test_x.py"));
  EXPECT_FALSE(GlobMatch("src/**/*.cc", "lib/a.cc"));
  EXPECT_TRUE(GlobMatch("/src/*.cc", "src/a.cc"));
}

}  // namespace
}  // namespace tandem::tools
