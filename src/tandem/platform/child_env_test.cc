#include "tandem/platform/child_env.h"

#include <gtest/gtest.h>

#include "tandem/base/redact.h"

namespace tandem::platform {
namespace {

const EnvMap kParent = {
    {"PATH", "/usr/bin:/bin"},
    {"HOME", "/home/u"},
    {"LC_ALL", "C.UTF-8"},
    {"CC", "clang"},
    {"GITHUB_TOKEN", "ghp_canaryAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"AWS_SECRET_ACCESS_KEY", "aws-canary-wJalrXUtnFEMI"},
    {"DATABASE_URL", "postgres://app:db-canary-pw@db.internal/app"},
    {"MY_TOOL_HOME", "/usr/share"},
    {"MY_TOOL_SETTING", "sk-canaryBBBBBBBBBBBBBBBBBBBBBBBB"},
    {"SOME_UNLISTED", "unlisted-canary-value"},
    {"OLDPWD", "/"},
};

TEST(ChildEnv, PassesTheAllowlistAndDropsEverythingElse) {
  ChildEnv child = BuildChildEnv(kParent, {});
  EXPECT_EQ(child.vars.at("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(child.vars.at("LC_ALL"), "C.UTF-8");
  EXPECT_EQ(child.vars.at("CC"), "clang");
  for (const char* name : {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL",
                           "MY_TOOL_HOME", "SOME_UNLISTED", "OLDPWD"}) {
    EXPECT_EQ(child.vars.count(name), 0u) << name;
  }
}

TEST(ChildEnv, APatternNeverPassesASecretLookingNameOrValue) {
  EnvPolicy policy;
  policy.include = {"MY_TOOL_*", "DATABASE_*", "GITHUB_*"};
  ChildEnv child = BuildChildEnv(kParent, policy);
  EXPECT_EQ(child.vars.at("MY_TOOL_HOME"), "/usr/share");
  EXPECT_EQ(child.vars.count("MY_TOOL_SETTING"), 0u);  // value shaped like a key
  EXPECT_EQ(child.vars.count("DATABASE_URL"), 0u);     // credentials in the URL
  EXPECT_EQ(child.vars.count("GITHUB_TOKEN"), 0u);     // name says token
}

TEST(ChildEnv, ANameTheUserGivesExactlyPassesEvenWhenItLooksSecret) {
  EnvPolicy policy;
  policy.include = {"DATABASE_URL"};
  ChildEnv child = BuildChildEnv(kParent, policy);
  EXPECT_EQ(child.vars.at("DATABASE_URL"), "postgres://app:db-canary-pw@db.internal/app");
}

// Passed by the user's explicit word, a secret is still redacted from what
// the child prints; an ordinary variable passed the same way is not.
TEST(ChildEnv, ASecretTheUserPassesByNameIsStillRedacted) {
  EnvPolicy policy;
  policy.include = {"DEPLOY_TOKEN", "MY_TOOL_HOME", "BUILD_FLAVOR"};
  ChildEnv child = BuildChildEnv(
      {{"DEPLOY_TOKEN", "named-canary-4471aa"}, {"MY_TOOL_HOME", "/usr/share"},
       {"BUILD_FLAVOR", "release-optimized"}},
      policy);
  EXPECT_EQ(child.vars.at("DEPLOY_TOKEN"), "named-canary-4471aa");
  EXPECT_EQ(Redactor::Apply("token named-canary-4471aa, flavor release-optimized, /usr/share"),
            "token [REDACTED], flavor release-optimized, /usr/share");
}

TEST(ChildEnv, ExcludeWinsAndSetIsApplied) {
  EnvPolicy policy;
  policy.include = {"MY_TOOL_HOME"};
  policy.exclude = {"MY_TOOL_*", "CC"};
  policy.set = {{"CI", "1"}, {"PATH", "/only"}};
  ChildEnv child = BuildChildEnv(kParent, policy);
  EXPECT_EQ(child.vars.count("MY_TOOL_HOME"), 0u);
  EXPECT_EQ(child.vars.count("CC"), 0u);
  EXPECT_EQ(child.vars.at("CI"), "1");
  EXPECT_EQ(child.vars.at("PATH"), "/only");
}

TEST(ChildEnv, RemovedValuesAreRedactedButPathsAreNot) {
  BuildChildEnv(kParent, {});
  EXPECT_EQ(Redactor::Apply("x unlisted-canary-value aws-canary-wJalrXUtnFEMI y"),
            "x [REDACTED] [REDACTED] y");
  EXPECT_EQ(Redactor::Apply("url postgres://app:db-canary-pw@db.internal/app"), "url [REDACTED]");
  // A removed value that names an existing path stays readable.
  EXPECT_EQ(Redactor::Apply("cd / and /usr/share"), "cd / and /usr/share");
}

TEST(ChildEnv, NamePatternsFindTheUsualSecretNames) {
  for (const char* name : {"OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD",
                           "NPM_AUTH", "GITLAB_PAT", "SSH_PRIVATE", "api_key"}) {
    EXPECT_TRUE(NameLooksSecret(name)) << name;
  }
  for (const char* name : {"PATH", "KEYBOARD", "PASSAGE", "HOME", "TOKENIZERS_PARALLELISM"}) {
    EXPECT_FALSE(NameLooksSecret(name)) << name;
  }
}

}  // namespace
}  // namespace tandem::platform
