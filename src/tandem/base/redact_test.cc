#include "tandem/base/redact.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(Redactor, RegisteredSecretIsReplacedEverywhere) {
  Redactor::Register("my-very-secret-value-123");
  EXPECT_EQ(Redactor::Apply("a my-very-secret-value-123 b my-very-secret-value-123"),
            "a [REDACTED] b [REDACTED]");
}

TEST(Redactor, KeyShapedTokensAreReplacedEvenWhenUnregistered) {
  EXPECT_EQ(Redactor::Apply("Authorization: Bearer sk-abcdefghijklmnopqrstuvwx"),
            "Authorization: Bearer [REDACTED]");
  EXPECT_EQ(Redactor::Apply("key=gsk_ABCDEFGHIJKLMNOPQRSTUV end"), "key=[REDACTED] end");
}

TEST(Redactor, ShortSecretsAndOrdinaryWordsAreLeftAlone) {
  Redactor::Register("abc");
  EXPECT_EQ(Redactor::Apply("abc sk-short task-list"), "abc sk-short task-list");
}

}  // namespace
}  // namespace tandem
