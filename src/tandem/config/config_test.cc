#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "tandem/config/loader.h"
#include "tandem/config/test_util.h"

namespace tandem::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempTree;

// Loads and expects failure; returns the message.
std::string LoadError(const ConfigInputs& inputs) {
  Result<LoadedConfig> loaded = LoadConfig(inputs);
  EXPECT_FALSE(loaded.has_value());
  if (loaded) return "";
  EXPECT_EQ(loaded.error().code(), StatusCode::kInvalidArgument);
  return loaded.error().message();
}

TEST(ConfigLayering, DefaultsApplyWhenNoFileExists) {
  TempTree tree;
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const Config& c = loaded->config;
  EXPECT_EQ(c.limits.max_steps, 40);
  EXPECT_EQ(c.limits.max_tokens, 2000000);
  EXPECT_DOUBLE_EQ(c.limits.max_cost_usd, 5.0);
  EXPECT_EQ(c.limits.max_wall_s, 1800);
  EXPECT_EQ(c.limits.step_retries, 3);
  EXPECT_FALSE(c.guardrails.allow_delete);
  EXPECT_EQ(c.guardrails.max_lines_per_step, 400);
  EXPECT_EQ(c.guardrails.command_policy, CommandPolicy::kRefuseRisky);
  EXPECT_EQ(c.sandbox.mode, SandboxMode::kAuto);
  EXPECT_EQ(c.sandbox.on_unavailable, OnUnavailable::kRefuse);
  EXPECT_EQ(c.approval.policy, ApprovalPolicy::kAsk);
  EXPECT_EQ(c.providers.at("anthropic").settings.wire, providers::WireFormat::kAnthropic);
  EXPECT_EQ(c.providers.at("groq").settings.base_url, "https://api.groq.com/openai/v1");
  EXPECT_TRUE(c.roles.executor.empty());
  ASSERT_EQ(loaded->files.size(), 2u);
  EXPECT_EQ(loaded->files[0].path, tree.user_file());
  EXPECT_FALSE(loaded->files[0].loaded);
  EXPECT_EQ(loaded->files[1].path, tree.repo_file());
}

TEST(ConfigLayering, EachLayerOverridesTheOneBelow) {
  TempTree tree;
  std::string extra = tree.root() + "/extra.toml";
  // Each layer sets max_steps and roles.executor, plus one key only it sets.
  TempTree::Write(tree.user_file(),
                  "[limits]\nmax_steps = 10\nmax_wall_s = 11\n"
                  "[roles]\nexecutor = \"groq-llama\"\nplanner = \"groq-llama\"\n");
  TempTree::Write(tree.repo_file(),
                  "[limits]\nmax_steps = 20\nstep_retries = 7\n"
                  "[roles]\nexecutor = \"groq-gpt-oss\"\n");
  TempTree::Write(extra, "limits.max_steps = 25\nlimits.max_tokens = 999\n");
  Env env{{"TANDEM_CONFIG", extra}, {"TANDEM_EXECUTOR_MODEL", "openai-gpt"}};

  Result<LoadedConfig> without_flags = LoadConfig(tree.Inputs(env));
  ASSERT_TRUE(without_flags) << without_flags.error().ToString();
  EXPECT_EQ(without_flags->config.limits.max_steps, 25);          // extra file > repo > user
  EXPECT_EQ(without_flags->config.roles.executor, "openai-gpt");  // env > files

  Result<LoadedConfig> loaded =
      LoadConfig(tree.Inputs(env, {"limits.max_steps=30", "roles.executor=claude-sonnet"}));
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const Config& c = loaded->config;
  EXPECT_EQ(c.limits.max_steps, 30);             // flags > everything
  EXPECT_EQ(c.roles.executor, "claude-sonnet");  // flags > env
  EXPECT_EQ(c.limits.max_wall_s, 11);            // user only
  EXPECT_EQ(c.roles.planner, "groq-llama");      // user only
  EXPECT_EQ(c.limits.step_retries, 7);           // repo only
  EXPECT_EQ(c.limits.max_tokens, 999);           // extra only
  EXPECT_DOUBLE_EQ(c.limits.max_cost_usd, 5.0);  // default
  EXPECT_EQ(loaded->OriginOf("limits.max_wall_s").ToString(), tree.user_file() + ":3");
  EXPECT_EQ(loaded->OriginOf("limits.step_retries").ToString(), tree.repo_file() + ":3");
  EXPECT_EQ(loaded->OriginOf("roles.executor").ToString(),
            "override 'roles.executor=claude-sonnet'");
  EXPECT_EQ(without_flags->OriginOf("roles.executor").ToString(),
            "environment TANDEM_EXECUTOR_MODEL");
  ASSERT_EQ(loaded->files.size(), 3u);
  EXPECT_TRUE(loaded->files[0].loaded && loaded->files[1].loaded && loaded->files[2].loaded);
  EXPECT_EQ(loaded->files[2].layer, FileLayer::kExtra);
}

TEST(ConfigLayering, XdgConfigHomeReplacesDotConfig) {
  TempTree tree;
  std::string xdg = tree.root() + "/xdg";
  TempTree::Write(xdg + "/tandem/config.toml", "[limits]\nmax_steps = 12\n");
  TempTree::Write(tree.user_file(), "[limits]\nmax_steps = 99\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs({{"XDG_CONFIG_HOME", xdg}}));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->config.limits.max_steps, 12);
  EXPECT_EQ(loaded->files[0].path, xdg + "/tandem/config.toml");
}

TEST(ConfigLayering, HomeComesFromEnvWhenNotGiven) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "sandbox.network = true\n");
  ConfigInputs inputs{"", "", {{"HOME", tree.home()}}, {}};
  Result<LoadedConfig> loaded = LoadConfig(inputs);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->config.sandbox.network);
  EXPECT_EQ(loaded->files.size(), 1u);  // no repository: no repo file looked for
}

TEST(ConfigLayering, ProviderTablesMergeKeyByKeyAcrossLayers) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.local]\nbase_url = \"http://127.0.0.1:9000/v1\"\n"
                  "headers = { X-A = \"1\", X-B = \"2\" }\nmax_concurrent_requests = 4\n");
  std::string extra = tree.root() + "/extra.toml";
  TempTree::Write(extra,
                  "[providers.local.headers]\nX-B = \"3\"\n"
                  "[providers.groq]\nmax_retries = 5\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs({{"TANDEM_CONFIG", extra}}));
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const auto& local = loaded->config.providers.at("local");
  EXPECT_EQ(local.settings.name, "local");
  EXPECT_EQ(local.settings.base_url, "http://127.0.0.1:9000/v1");
  EXPECT_EQ(local.settings.limits.max_concurrent_requests, 4);
  EXPECT_EQ(local.settings.headers.at("X-A"), "1");
  EXPECT_EQ(local.settings.headers.at("X-B"), "3");
  EXPECT_TRUE(local.api_key_env.empty());
  const auto& groq = loaded->config.providers.at("groq");
  EXPECT_EQ(groq.settings.max_retries, 5);
  EXPECT_EQ(groq.settings.base_url, "https://api.groq.com/openai/v1");  // built-in kept
  EXPECT_EQ(groq.api_key_env, "GROQ_API_KEY");
}

TEST(ConfigLayering, ModelIdDefaultsToItsTableName) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[models.\"qwen3:8b\"]\nprovider = \"groq\"\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.models.at("qwen3:8b").id, "qwen3:8b");
  EXPECT_EQ(loaded->config.models.at("qwen3:8b").context_window, 128000);
}

TEST(ConfigOverrides, ValuesAreTypedByTheSchema) {
  TempTree tree;
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs(
      {}, {"guardrails.scope=[\"src/**\", \"tests/*.cc\"]", "sandbox.mode=bwrap",
           "limits.max_cost_usd=2.5", "guardrails.allow_delete=true", "models.x.provider=groq",
           "models.x.id=\"quoted-id\"", "providers.groq.headers.X-Title=tandem"}));
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const Config& c = loaded->config;
  EXPECT_EQ(c.guardrails.scope, (std::vector<std::string>{"src/**", "tests/*.cc"}));
  EXPECT_EQ(c.sandbox.mode, SandboxMode::kBwrap);
  EXPECT_DOUBLE_EQ(c.limits.max_cost_usd, 2.5);
  EXPECT_TRUE(c.guardrails.allow_delete);
  EXPECT_EQ(c.models.at("x").id, "quoted-id");
  EXPECT_EQ(c.providers.at("groq").settings.headers.at("X-Title"), "tandem");
}

TEST(ConfigValidation, WrongTypeNamesFileLineKeyExpectedAndFound) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "# tandem\n\n[providers.cerebras]\nmax_retries = 3\n\n"
                  "[models.fast]\nprice_input = \"cheap\"\nprovider = \"cerebras\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":7: models.fast.price_input: expected a number >= 0, found string \"cheap\"");
}

TEST(ConfigValidation, UnknownKeySuggestsTheClosestValidKey) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[models.fast]\nprovider = \"groq\"\nprice_inptu = 1.0\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.user_file() +
                ":3: models.fast.price_inptu: unknown key (did you mean models.fast.price_input?)");
}

TEST(ConfigValidation, UnknownTableSuggestsTheClosestSection) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "\n[limit]\nmax_steps = 3\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() + ":2: limit: unknown key (did you mean limits?)");
}

TEST(ConfigValidation, UnknownKeyWithNothingCloseHasNoSuggestion) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[sandbox]\ncompletely_different = 1\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() + ":2: sandbox.completely_different: unknown key");
}

TEST(ConfigValidation, OutOfRangeValues) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[limits]\nmax_steps = 0\nmax_cost_usd = 0\n"
                  "step_retries = 101\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_EQ(
      error,
      tree.repo_file() + ":2: limits.max_steps: expected an integer >= 1, found integer 0\n" +
          tree.repo_file() + ":3: limits.max_cost_usd: expected a number > 0, found integer 0\n" +
          tree.repo_file() +
          ":4: limits.step_retries: expected an integer between 0 and 100, found integer 101");
}

TEST(ConfigValidation, FloatWhereIntegerExpected) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "providers.groq.max_concurrent_requests = 2.5\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":1: providers.groq.max_concurrent_requests: expected an integer "
                "between 0 and 4096, found float 2.5");
}

TEST(ConfigValidation, RateLimitsLoadIntoTheProvidersLimits) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[providers.groq]\nmax_concurrent_requests = 4\nrequests_per_minute = 30\n"
                  "tokens_per_minute = 60000\nmax_rate_limit_wait_ms = 120000\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const providers::ProviderSettings& groq = loaded->config.providers.at("groq").settings;
  EXPECT_EQ(groq.limits, (providers::RateLimits{4, 30, 60000}));
  EXPECT_EQ(groq.max_rate_limit_wait_ms, 120000);
  EXPECT_EQ(loaded->config.providers.at("cerebras").settings.limits,
            (providers::RateLimits{16, 0, 0}));  // the default: 16 in flight, no rates
}

TEST(ConfigValidation, BadRateLimitsNameTheKeyAndTheRange) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "providers.groq.requests_per_minute = -1\nproviders.groq.max_concurrent = 4\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_NE(error.find(":1: providers.groq.requests_per_minute: expected an integer >= 0, found "
                       "integer -1"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(":2: providers.groq.max_concurrent: unknown key (did you mean "
                       "providers.groq.max_concurrent_requests?)"),
            std::string::npos)
      << error;
}

TEST(ConfigValidation, BadWireValue) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[providers.mine]\nbase_url = \"http://127.0.0.1:1/v1\"\nwire = \"grpc\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()), tree.repo_file() +
                                          ":3: providers.mine.wire: expected one of \"openai\", "
                                          "\"anthropic\", found string \"grpc\"");
}

TEST(ConfigValidation, SkillsCaptureIsOffAskOrAuto) {
  TempTree tree;
  EXPECT_EQ(LoadConfig(tree.Inputs())->config.skills.capture, CaptureMode::kAsk);
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs({}, {"skills.capture=auto"}));
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.skills.capture, CaptureMode::kAuto);
  TempTree::Write(tree.repo_file(), "[skills]\ncapture = \"always\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()), tree.repo_file() +
                                          ":2: skills.capture: expected one of \"off\", \"ask\", "
                                          "\"auto\", found string \"always\"");
}

TEST(ConfigValidation, BaseUrlMustBeHttp) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[providers.mine]\nbase_url = \"ftp://x\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()), tree.repo_file() +
                                          ":2: providers.mine.base_url: expected an http:// or "
                                          "https:// URL, found string \"ftp://x\"");
}

TEST(ConfigValidation, RoleNamingAnUnknownModel) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[models.fast]\nprovider = \"cerebras\"\n\n[roles]\nexecutor = \"fats\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":5: roles.executor: expected the name of a model defined under [models] or a pool "
                "under [pools], found \"fats\" (did you mean \"fast\"?)");
}

TEST(ConfigValidation, PoolsNameDefinedModelsAndOneWithinTheirPriceLimits) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[models.fast]\nprovider = \"cerebras\"\nprice_output = 9.0\n\n"
                  "[pools.duo]\nmodels = [\"fast\", \"fats\"]\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":6: pools.duo.models: expected the name of a model defined under [models], "
                "found \"fats\" (did you mean \"fast\"?)");
  TempTree::Write(tree.repo_file(),
                  "[models.fast]\nprovider = \"cerebras\"\nprice_output = 9.0\n\n"
                  "[pools.duo]\nmodels = [\"fast\"]\nmax_price_output = 2.0\n");
  EXPECT_THAT(LoadError(tree.Inputs()),
              HasSubstr("pools.duo: no model of the pool is within its max_price_input / "
                        "max_price_output"));
  TempTree::Write(tree.repo_file(), "");
  TempTree::Write(tree.user_file(),
                  "[models.fast]\nprovider = \"cerebras\"\n\n"
                  "[pools.duo]\nmodels = [\"fast\"]\n\n[roles]\nexecutor = \"duo\"\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->config.roles.executor, "duo");
  EXPECT_EQ(loaded->config.pools.at("duo").models, std::vector<std::string>{"fast"});
}

TEST(ConfigValidation, RoleFromEnvironmentNamingAnUnknownModel) {
  TempTree tree;
  EXPECT_EQ(LoadError(tree.Inputs({{"TANDEM_PLANNER_MODEL", "no-such-model-anywhere"}})),
            "environment TANDEM_PLANNER_MODEL: roles.planner: expected the name of a model defined "
            "under [models] or a pool under [pools], found \"no-such-model-anywhere\"");
}

TEST(ConfigValidation, ModelNamingAnUnknownProvider) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[models.fast]\nid = \"x\"\nprovider = \"cerebrs\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.user_file() +
                ":3: models.fast.provider: expected the name of a provider defined under "
                "[providers], found \"cerebrs\" (did you mean \"cerebras\"?)");
}

TEST(ConfigValidation, ModelWithoutProviderAndProviderWithoutUrl) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[providers.mine]\nmax_retries = 1\n\n[models.m]\nid = \"x\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() + ":1: providers.mine.base_url: required key is missing\n" +
                tree.repo_file() + ":4: models.m.provider: required key is missing");
}

TEST(ConfigValidation, FastModeNeedsAnAnthropicProvider) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[models.quick]\nprovider = \"groq\"\nfast_mode = true\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":3: models.quick.fast_mode: fast_mode needs a provider with wire = \"anthropic\", "
                "but provider \"groq\" uses wire \"openai\"");
}

TEST(ConfigValidation, ScalarWhereTableExpected) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "roles = \"fast\"\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() + ":1: roles: expected a table, found string \"fast\"");
}

TEST(ConfigValidation, ArrayOfNonStrings) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[guardrails]\nscope = [\"src\", 3]\n");
  EXPECT_EQ(LoadError(tree.Inputs()), tree.repo_file() +
                                          ":2: guardrails.scope: expected an array of path "
                                          "globs relative to the repository root, found an "
                                          "array containing integer 3");
}

TEST(ConfigValidation, ScopesOutsideTheRepositoryAreRefusedWithTheirLine) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[guardrails]\nscope = [\"src/**\", \"../**\"]\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":2: guardrails.scope: expected an array of path globs relative to the repository "
                "root, found an array containing string \"../**\" ('..' leaves the repository)");
  TempTree::Write(tree.repo_file(), "[guardrails]\nscope = [\"/etc/**\"]\n");
  EXPECT_NE(LoadError(tree.Inputs()).find("an absolute path is outside the repository"),
            std::string::npos);
  TempTree::Write(tree.repo_file(), "[guardrails]\nscope = [\"\"]\n");
  EXPECT_NE(LoadError(tree.Inputs()).find("an empty scope matches no path"), std::string::npos);
  // TOML's \u0000 escape: the kernel would read the path only up to the NUL.
  TempTree::Write(tree.repo_file(), "[guardrails]\nscope = [\"src/a.cc\\u0000/x\"]\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() +
                ":2: guardrails.scope: expected an array of path globs relative to the repository "
                "root, found an array containing string \"src/a.cc?/x\" (a NUL byte ends a path "
                "early, so it would name a path it does not say)");
}

TEST(ConfigValidation, MalformedTomlGivesLineColumnAndParserMessage) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[limits]\nmax_steps = = 3\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_THAT(error, ::testing::StartsWith(tree.repo_file() + ":2:"));
  EXPECT_GT(error.size(), tree.repo_file().size() + 6);  // carries the parser's message
}

// Found by fuzz/config_fuzz: toml++ quotes the character it choked on, a
// newline included, which split one problem over two lines of the message.
TEST(ConfigValidation, ParserMessageQuotingANewlineStaysOnOneLine) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[guardrails]\nallow_delete = f\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_THAT(error, ::testing::StartsWith(tree.repo_file() + ":2:"));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(ConfigValidation, ReportsEveryProblemAcrossFilesInOrder) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[limits]\nmax_steps = \"many\"\n");
  TempTree::Write(tree.repo_file(), "[sandbox]\nmode = \"docker\"\nnetwork = \"yes\"\n");
  std::string error = LoadError(tree.Inputs({}, {"limits.max_wall_s=abc"}));
  EXPECT_EQ(
      error,
      tree.user_file() + ":2: limits.max_steps: expected an integer >= 1, found string \"many\"\n" +
          tree.repo_file() +
          ":2: sandbox.mode: expected one of \"auto\", \"bwrap\", \"none\", found string "
          "\"docker\"\n" +
          tree.repo_file() + ":3: sandbox.network: expected true or false, found string \"yes\"\n" +
          "override 'limits.max_wall_s=abc': limits.max_wall_s: expected an integer >= 1, found "
          "string \"abc\"");
}

TEST(ConfigEnvironment, IncludeExcludeAndSetReachTheConfig) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[environment]\ninclude = [\"DATABASE_URL\", \"MY_*\"]\nexclude = [\"GOFLAGS\"]\n"
                  "set = { CI = \"1\" }\n[sandbox]\nhome_dirs = [\".cargo\"]\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const Environment& env = loaded->config.environment;
  EXPECT_EQ(env.include, (std::vector<std::string>{"DATABASE_URL", "MY_*"}));
  EXPECT_EQ(env.exclude, (std::vector<std::string>{"GOFLAGS"}));
  EXPECT_EQ(env.set.at("CI"), "1");
  EXPECT_EQ(loaded->config.sandbox.home_dirs, (std::vector<std::string>{".cargo"}));
}

TEST(ConfigEnvironment, APatternThatIsNotAVariableNameIsRefused) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[environment]\ninclude = [\"PATH\", \"A=B\"]\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.user_file() +
                ":2: environment.include: expected an array of variable names, each maybe ending "
                "in '*' (like \"LC_*\"), found an array containing string \"A=B\"");
}

TEST(ConfigMcpServers, EveryKeyReachesTheConfig) {
  TempTree tree;
  TempTree::Write(tree.user_file(),
                  "[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"server\"]\n"
                  "env = [\"GITHUB_TOKEN\"]\ncwd = \"tools\"\nenabled = false\n"
                  "enabled_tools = [\"read_file\"]\ndisabled_tools = [\"write_file\"]\n"
                  "start_timeout_ms = 2000\ncall_timeout_ms = 3000\nnetwork = true\n");
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  const McpServer& s = loaded->config.mcp_servers.at("fs");
  EXPECT_EQ(s.command, "npx");
  EXPECT_EQ(s.args, (std::vector<std::string>{"-y", "server"}));
  EXPECT_EQ(s.env, (std::vector<std::string>{"GITHUB_TOKEN"}));
  EXPECT_EQ(s.cwd, "tools");
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.enabled_tools, (std::vector<std::string>{"read_file"}));
  EXPECT_EQ(s.disabled_tools, (std::vector<std::string>{"write_file"}));
  EXPECT_EQ(s.start_timeout_ms, 2000);
  EXPECT_EQ(s.call_timeout_ms, 3000);
  EXPECT_TRUE(s.network);
  EXPECT_TRUE(DefaultConfig().mcp_servers.empty());
}

TEST(ConfigMcpServers, AValueWhereAVariableNameBelongsIsRefusedWithoutEchoingIt) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[mcp_servers.gh]\ncommand = \"gh-mcp\"\nenv = [\"sk-ant-abcdefghijklmnopqrstuvwxyz0123\"]\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_NE(error.find(":3: mcp_servers.gh.env: expected an array of variable names"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("sk-ant"), std::string::npos) << error;
}

TEST(ConfigMcpServers, ATimeoutOfZeroAndAnUnknownKeyAreRefused) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[mcp_servers.fs]\ncommand = \"x\"\ncall_timeout_ms = 0\nenabeld = true\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_NE(error.find(":3: mcp_servers.fs.call_timeout_ms"), std::string::npos) << error;
  EXPECT_NE(error.find("mcp_servers.fs.enabled"), std::string::npos) << error;
}

TEST(ConfigMcpServers, ACommandIsRequiredAndTheNameMustFitToolNames) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[mcp_servers.\"a.b\"]\nargs = []\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.user_file() + ":1: mcp_servers.\"a.b\": an MCP server's name is 1-32 letters, "
            "digits, '_' or '-' (no \"__\")\n" + tree.user_file() +
            ":1: mcp_servers.\"a.b\".command: required key is missing");
}

TEST(ConfigEnvironment, DefaultsKeepToolchainDirsAndPassNothingExtra) {
  Config c = DefaultConfig();
  EXPECT_TRUE(c.environment.include.empty());
  EXPECT_TRUE(c.environment.set.empty());
  EXPECT_NE(std::find(c.sandbox.home_dirs.begin(), c.sandbox.home_dirs.end(), ".cargo"),
            c.sandbox.home_dirs.end());
}

TEST(ConfigValidation, BadOverrides) {
  TempTree tree;
  EXPECT_EQ(LoadError(tree.Inputs({}, {"limits.max_step=3"})),
            "override 'limits.max_step=3': limits.max_step: unknown key (did you mean "
            "limits.max_steps?)");
  EXPECT_EQ(LoadError(tree.Inputs({}, {"roles.executor"})),
            "override 'roles.executor': expected key=value");
}

TEST(ConfigValidation, MissingTandemConfigFile) {
  TempTree tree;
  std::string missing = tree.root() + "/nope.toml";
  EXPECT_EQ(LoadError(tree.Inputs({{"TANDEM_CONFIG", missing}})),
            missing + ": TANDEM_CONFIG names this file, which does not exist");
}

TEST(ConfigSecrets, ApiKeyWrittenInAFileIsRejectedWithoutEchoingIt) {
  TempTree tree;
  const std::string key = "Zq81mN2pX7vL0kR4tY6uW3eA";  // no recognizable key shape
  TempTree::Write(tree.repo_file(), "[providers.groq]\napi_key = \"" + key + "\"\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_THAT(error, Not(HasSubstr(key)));
  EXPECT_THAT(error, HasSubstr(":2: providers.groq.api_key: unknown key"));
  EXPECT_THAT(error, HasSubstr("api_key_env"));

  TempTree::Write(tree.repo_file(), "[providers.groq]\napi_key_env = \"" + key + "-x\"\n");
  error = LoadError(tree.Inputs());
  EXPECT_THAT(error, Not(HasSubstr(key)));
  EXPECT_THAT(
      error,
      HasSubstr(":2: providers.groq.api_key_env: expected the name of an environment variable"));
}

TEST(ConfigSecrets, ApiKeyPassedAsAnOverrideIsNotEchoed) {
  TempTree tree;
  const std::string key = "Zq81mN2pX7vL0kR4tY6uW3eA";
  std::string error = LoadError(tree.Inputs({}, {"providers.groq.api_key=" + key}));
  EXPECT_THAT(error, Not(HasSubstr(key)));
  EXPECT_THAT(
      error,
      HasSubstr("override 'providers.groq.api_key=...': providers.groq.api_key: unknown key"));
}

TEST(ConfigValidation, TransposedLettersStillGetASuggestion) {
  TempTree tree;
  TempTree::Write(tree.repo_file(),
                  "[sandbox]\nmdoe = \"none\"\n[models.m]\nprovider = \"groq\"\nx = 1\n");
  EXPECT_EQ(LoadError(tree.Inputs()),
            tree.repo_file() + ":2: sandbox.mdoe: unknown key (did you mean sandbox.mode?)\n" +
                tree.repo_file() + ":5: models.m.x: unknown key");
}

TEST(ConfigSecrets, KeyShapedStringsAreRedactedInTypeErrors) {
  TempTree tree;
  const std::string key = "gsk_abcdefghijklmnopqrstuvwxyz0123";
  TempTree::Write(tree.repo_file(), "[roles]\nexecutor = [\"" + key +
                                        "\"]\n"
                                        "[limits]\nmax_steps = \"" +
                                        key + "\"\n");
  std::string error = LoadError(tree.Inputs());
  EXPECT_THAT(error, Not(HasSubstr(key)));
  EXPECT_THAT(error, HasSubstr("found string \"[REDACTED]\""));
}

TEST(ConfigPaths, FindRepoRootWalksUpToGit) {
  TempTree tree;
  std::filesystem::create_directories(tree.repo() + "/.git");
  std::filesystem::create_directories(tree.repo() + "/a/b");
  EXPECT_EQ(FindRepoRoot(tree.repo() + "/a/b"), tree.repo());
  EXPECT_EQ(FindRepoRoot(tree.home()), "");
}

}  // namespace
}  // namespace tandem::config

namespace tandem::config {
namespace {

// Every ```toml block in docs/CONFIG.md must load cleanly, so the examples
// cannot drift from the schema.
TEST(ConfigDocs, EveryExampleInConfigMdIsValid) {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/docs/CONFIG.md");
  ASSERT_TRUE(in);
  std::string line, block;
  bool inside = false;
  int examples = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```toml") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      testing::TempTree tree;
      testing::TempTree::Write(tree.user_file(), block);
      Result<LoadedConfig> loaded = LoadConfig(tree.Inputs());
      EXPECT_TRUE(loaded) << loaded.error().ToString() << "\nin example:\n" << block;
      ++examples;
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_GE(examples, 7);
}

// GUARDRAILS.md and CONFIG.md describe the sandbox in the words a config file
// uses: every value `sandbox.mode` and `sandbox.on_unavailable` accept, and
// none of the internal names (tools::SandboxMode) that a config rejects.
TEST(ConfigDocs, GuardrailsAndConfigMdNameTheSandboxModesAConfigAccepts) {
  for (const char* doc : {"/docs/GUARDRAILS.md", "/docs/CONFIG.md"}) {
    std::ifstream in(std::string(TANDEM_SOURCE_DIR) + doc);
    ASSERT_TRUE(in) << doc;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (SandboxMode mode : {SandboxMode::kAuto, SandboxMode::kBwrap, SandboxMode::kNone}) {
      std::string value = "\"" + std::string(ToString(mode)) + "\"";
      EXPECT_NE(text.find(value), std::string::npos) << doc << " lacks " << value;
      EXPECT_TRUE(ParseSandboxMode(ToString(mode)));
    }
    for (OnUnavailable o : {OnUnavailable::kRefuse, OnUnavailable::kRunUnsandboxed}) {
      std::string value = "\"" + std::string(ToString(o)) + "\"";
      EXPECT_NE(text.find(value), std::string::npos) << doc << " lacks " << value;
    }
    for (const char* internal : {"`require`", "`prefer`", "`off`"}) {
      EXPECT_FALSE(ParseSandboxMode(std::string_view(internal).substr(1, std::strlen(internal) - 2)));
      EXPECT_EQ(text.find(internal), std::string::npos) << doc << " names the mode " << internal
                                                        << ", which a config file rejects";
    }
  }
}

}  // namespace
}  // namespace tandem::config

namespace tandem::config {
namespace {

TEST(ConfigReview, PolicyDefaultsToIrreversiblePlusLargeAndTakesAStringOrAnArray) {
  TempTree tree;
  Result<LoadedConfig> defaults = LoadConfig(tree.Inputs());
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_EQ(protocol::Name(defaults->config.review.policy), "irreversible,large");

  Result<LoadedConfig> always = LoadConfig(tree.Inputs({}, {"review.policy=always"}));
  ASSERT_TRUE(always) << always.error().ToString();
  EXPECT_TRUE(always->config.review.policy.always);

  TempTree::Write(tree.user_file(), "[review]\npolicy = [\"large\"]\nlarge_lines = 50\n");
  Result<LoadedConfig> array = LoadConfig(tree.Inputs());
  ASSERT_TRUE(array) << array.error().ToString();
  EXPECT_EQ(protocol::Name(array->config.review.policy), "large");
  EXPECT_EQ(array->config.review.large_lines, 50);

  Result<LoadedConfig> listed = LoadConfig(tree.Inputs({}, {"review.policy=irreversible+large"}));
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_EQ(protocol::Name(listed->config.review.policy), "irreversible,large");
}

TEST(ConfigReview, AnUnknownPolicyValueIsRefusedNamingIt) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[review]\npolicy = \"irreversible,sometimes\"\n");
  EXPECT_THAT(LoadError(tree.Inputs()),
              HasSubstr(":2: review.policy: unknown review policy value 'sometimes'"));
  TempTree::Write(tree.user_file(), "[review]\npolicy = 3\n");
  EXPECT_THAT(LoadError(tree.Inputs()), HasSubstr("review.policy: expected never, always"));
}

}  // namespace
}  // namespace tandem::config
