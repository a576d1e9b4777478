#include "tandem/base/status.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("not positive: " + std::to_string(v));
  return v;
}

Result<int> DoubleIt(int v) {
  int x = TRY(ParsePositive(v));
  return x * 2;
}

Status CheckBoth(int a, int b) {
  RETURN_IF_ERROR(ParsePositive(a).has_value() ? Status::Ok() : InvalidArgument("a"));
  RETURN_IF_ERROR(ParsePositive(b).has_value() ? Status::Ok() : InvalidArgument("b"));
  return Status::Ok();
}

TEST(Result, TryPropagatesTheErrorUnchanged) {
  Result<int> r = DoubleIt(-3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "not positive: -3");
}

TEST(Result, TryUnwrapsTheValue) {
  Result<int> r = DoubleIt(21);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
}

TEST(Status, ReturnIfErrorStopsAtTheFirstFailure) {
  EXPECT_EQ(CheckBoth(-1, -1).message(), "a");
  EXPECT_EQ(CheckBoth(1, -1).message(), "b");
  EXPECT_TRUE(CheckBoth(1, 1).ok());
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  Status s = NotFound("x.txt").WithContext("reading plan");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: reading plan: x.txt");
}

TEST(Result, CustomErrorTypeIsCarried) {
  Result<int, std::string> r = std::string("boom");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "boom");
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

Status UseTryInStatusFunction(int v, int* out) {
  *out = TRY(ParsePositive(v));
  return Status::Ok();
}

TEST(Status, TryWorksInFunctionsReturningStatus) {
  int out = 0;
  EXPECT_TRUE(UseTryInStatusFunction(5, &out).ok());
  EXPECT_EQ(out, 5);
  Status s = UseTryInStatusFunction(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tandem
