#include "tandem/workspace/touched_paths.h"

#include <gtest/gtest.h>

namespace tandem::workspace {
namespace {

TEST(NormalizeRelativePath, CollapsesDotsAndSlashes) {
  EXPECT_EQ(*NormalizeRelativePath("./a//b/./c/"), "a/b/c");
  EXPECT_EQ(*NormalizeRelativePath("a/x/../b"), "a/b");
  EXPECT_EQ(*NormalizeRelativePath("."), "");
}

TEST(NormalizeRelativePath, RejectsAbsoluteAndEscapingPaths) {
  EXPECT_EQ(NormalizeRelativePath("/etc").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeRelativePath("a/../../b").error().code(), StatusCode::kInvalidArgument);
}

TEST(CanonicalPathSet, DropsPrivateDuplicateAndCoveredPaths) {
  auto set = CanonicalPathSet({"b", "a/x", "a", "a.txt", ".git/config", ".tandem/db", "b", "sub/.git"});
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(*set, (std::vector<std::string>{"a", "a.txt", "b"}));
}

TEST(TouchedPaths, RootMeansUnknown) {
  EXPECT_TRUE(TouchedPaths::Only({"a", "."}).unknown());
  EXPECT_FALSE(TouchedPaths::Only({"a"}).unknown());
}

}  // namespace
}  // namespace tandem::workspace
