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

TEST(Redactor, ProviderAndCloudKeyShapesAreReplaced) {
  for (const char* key : {"ghp_0123456789abcdefghijABCDEFGHIJ012345", "github_pat_11ABCDEFG0123456789_abcdef",
                          "AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-abcdefghijkl",
                          "AIzaSyA-0123456789abcdefghijklmnopqrstu", "glpat-abcdefghij0123456789"}) {
    EXPECT_EQ(Redactor::Apply(std::string("token ") + key + " end"), "token [REDACTED] end") << key;
    EXPECT_TRUE(Redactor::HasSecretShape(key)) << key;
  }
}

TEST(Redactor, UrlPasswordsAreReplacedAndTheRestOfTheUrlKept) {
  EXPECT_EQ(Redactor::Apply("DATABASE_URL=postgres://app:hunter2-canary@db.internal:5432/app"),
            "DATABASE_URL=postgres://app:[REDACTED]@db.internal:5432/app");
  EXPECT_TRUE(Redactor::HasSecretShape("https://user:pw@example.com/"));
  EXPECT_FALSE(Redactor::HasSecretShape("https://example.com:8443/path@v2"));
  EXPECT_FALSE(Redactor::HasSecretShape("/usr/local/bin:/usr/bin"));
  EXPECT_EQ(Redactor::Apply("see http://localhost:8080/x and a@b"), "see http://localhost:8080/x and a@b");
}

}  // namespace
}  // namespace tandem
