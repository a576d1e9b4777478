#include "tandem/config/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tandem/config/resolve.h"
#include "tandem/config/test_util.h"

namespace tandem::config {
namespace {

using testing::Load;
using testing::TempTree;


// A probe that reports servers only at the given base URLs, and counts calls.
struct FakeNetwork {
  std::map<std::string, std::vector<std::string>> servers;
  int calls = 0;

  ProbeFn Probe() {
    return [this](const std::string& base_url) -> Result<std::vector<std::string>> {
      ++calls;
      auto it = servers.find(base_url);
      if (it == servers.end()) return Unavailable("connection refused");
      return it->second;
    };
  }
};

TEST(Discovery, NothingFoundLeavesEveryRoleUnset) {
  TempTree tree;
  LoadedConfig loaded = Load(tree, {});
  FakeNetwork network;
  DiscoveryReport report = Discover(loaded, {}, network.Probe());
  EXPECT_TRUE(report.keys_present.empty());
  EXPECT_TRUE(report.probed);
  ASSERT_EQ(report.probes.size(), 3u);
  EXPECT_FALSE(report.probes[0].found);
  EXPECT_EQ(report.probes[0].error, "connection refused");
  EXPECT_TRUE(loaded.config.roles.planner.empty());
  EXPECT_TRUE(loaded.config.roles.executor.empty());
  EXPECT_TRUE(loaded.config.roles.reviewer.empty());
}

TEST(Discovery, CerebrasKeyAloneServesEveryRoleWithTheFastModel) {
  TempTree tree;
  Env env{{"CEREBRAS_API_KEY", "csk-test-0000000000000000000000"}};
  LoadedConfig loaded = Load(tree, env);
  DiscoveryReport report = Discover(loaded, env, nullptr);
  EXPECT_EQ(report.keys_present, std::vector<std::string>{"CEREBRAS_API_KEY"});
  EXPECT_FALSE(report.probed);
  EXPECT_EQ(loaded.config.roles.executor, "cerebras-gpt-oss");
  EXPECT_EQ(loaded.config.roles.planner, "cerebras-gpt-oss");
  EXPECT_EQ(loaded.config.roles.reviewer, "cerebras-gpt-oss");
  EXPECT_EQ(loaded.OriginOf("roles.executor").ToString(), "discovered (CEREBRAS_API_KEY is set)");
  EXPECT_EQ(loaded.OriginOf("roles.planner").ToString(), "discovered (same as executor)");
}

TEST(Discovery, AnthropicPlansAndGroqExecutes) {
  TempTree tree;
  Env env{{"GROQ_API_KEY", "g"}, {"ANTHROPIC_API_KEY", "a"}, {"OPENAI_API_KEY", "o"}};
  LoadedConfig loaded = Load(tree, env);
  Discover(loaded, env, nullptr);
  EXPECT_EQ(loaded.config.roles.executor, "groq-gpt-oss");
  EXPECT_EQ(loaded.config.roles.planner, "claude-opus");
  EXPECT_EQ(loaded.config.roles.reviewer, "claude-opus");
}

TEST(Discovery, CerebrasIsPreferredOverGroqAndOpenAIPlansWithoutAnthropic) {
  TempTree tree;
  Env env{{"GROQ_API_KEY", "g"}, {"CEREBRAS_API_KEY", "c"}, {"OPENAI_API_KEY", "o"}};
  LoadedConfig loaded = Load(tree, env);
  Discover(loaded, env, nullptr);
  EXPECT_EQ(loaded.config.roles.executor, "cerebras-gpt-oss");
  EXPECT_EQ(loaded.config.roles.planner, "openai-gpt");
}

TEST(Discovery, SlowProviderAloneServesEveryRole) {
  TempTree tree;
  Env env{{"OPENAI_API_KEY", "o"}};
  LoadedConfig loaded = Load(tree, env);
  FakeNetwork network;  // nothing listening
  Discover(loaded, env, network.Probe());
  EXPECT_EQ(loaded.config.roles.executor, "openai-gpt");
  EXPECT_EQ(loaded.config.roles.planner, "openai-gpt");
}

TEST(Discovery, ProbeFindsALocalServerThatThenResolvesWithoutAKey) {
  TempTree tree;
  LoadedConfig loaded = Load(tree, {});
  FakeNetwork network;
  network.servers["http://127.0.0.1:11434/v1"] = {"qwen3-coder:30b", "llama3.2:3b"};
  DiscoveryReport report = Discover(loaded, {}, network.Probe());
  ASSERT_EQ(report.probes.size(), 3u);
  EXPECT_EQ(report.probes[1].name, "ollama");
  EXPECT_TRUE(report.probes[1].found);
  EXPECT_EQ(report.probes[1].model_ids.size(), 2u);
  EXPECT_EQ(loaded.config.roles.executor, "ollama/qwen3-coder:30b");
  EXPECT_EQ(loaded.config.roles.planner, "ollama/qwen3-coder:30b");
  EXPECT_EQ(loaded.OriginOf("roles.executor").ToString(),
            "discovered (Ollama at http://127.0.0.1:11434/v1)");
  EXPECT_TRUE(loaded.config.models.count("ollama/llama3.2:3b"));

  Result<ResolvedModel> resolved = ResolveRole(loaded.config, {}, Role::kExecutor);
  ASSERT_TRUE(resolved) << resolved.error().ToString();
  EXPECT_EQ(resolved->provider.base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(resolved->provider.name, "ollama");
  EXPECT_EQ(resolved->model.id, "qwen3-coder:30b");
  EXPECT_TRUE(resolved->provider.api_key.empty());
  EXPECT_TRUE(resolved->provider.send_max_tokens);
}

TEST(Discovery, FastCloudKeyBeatsLocalServerAndSkipsTheProbe) {
  TempTree tree;
  Env env{{"GROQ_API_KEY", "g"}};
  LoadedConfig loaded = Load(tree, env);
  FakeNetwork network;
  network.servers["http://127.0.0.1:8080/v1"] = {"local-model"};
  DiscoveryReport report = Discover(loaded, env, network.Probe());
  EXPECT_EQ(network.calls, 0);
  EXPECT_FALSE(report.probed);
  EXPECT_EQ(loaded.config.roles.executor, "groq-gpt-oss");

  // Doctor probes anyway, and the choice stays the same.
  LoadedConfig again = Load(tree, env);
  report = Discover(again, env, network.Probe(), {.always_probe = true});
  EXPECT_EQ(network.calls, 3);
  EXPECT_TRUE(report.probes[0].found);
  EXPECT_EQ(again.config.roles.executor, "groq-gpt-oss");
  EXPECT_TRUE(again.config.models.count("llamacpp/local-model"));
}

TEST(Discovery, LocalServerBeatsSlowCloudForTheExecutorOnly) {
  TempTree tree;
  Env env{{"ANTHROPIC_API_KEY", "a"}};
  LoadedConfig loaded = Load(tree, env);
  FakeNetwork network;
  network.servers["http://127.0.0.1:8000/v1"] = {"Qwen/Qwen3-Coder-30B"};
  Discover(loaded, env, network.Probe());
  EXPECT_EQ(loaded.config.roles.executor, "vllm/Qwen/Qwen3-Coder-30B");
  EXPECT_EQ(loaded.config.roles.planner, "claude-opus");
}

TEST(Discovery, ConfiguredRolesAreNeverChanged) {
  TempTree tree;
  TempTree::Write(tree.repo_file(), "[roles]\nexecutor = \"groq-llama\"\n");
  Env env{{"CEREBRAS_API_KEY", "c"}, {"ANTHROPIC_API_KEY", "a"}};
  LoadedConfig loaded = Load(tree, env);
  FakeNetwork network;
  Discover(loaded, env, network.Probe());
  EXPECT_EQ(network.calls, 0);  // the executor is set: no probe can matter
  EXPECT_EQ(loaded.config.roles.executor, "groq-llama");
  EXPECT_EQ(loaded.config.roles.planner, "claude-opus");
  EXPECT_EQ(loaded.OriginOf("roles.executor").ToString(), tree.repo_file() + ":2");
}

TEST(Discovery, RenamedKeyVariableIsHonored) {
  TempTree tree;
  TempTree::Write(tree.user_file(), "[providers.cerebras]\napi_key_env = \"WORK_CEREBRAS_KEY\"\n");
  Env env{{"CEREBRAS_API_KEY", "ignored"}, {"WORK_CEREBRAS_KEY", "c"}};
  LoadedConfig loaded = Load(tree, env);
  DiscoveryReport report = Discover(loaded, env, nullptr);
  EXPECT_EQ(report.keys_present, std::vector<std::string>{"WORK_CEREBRAS_KEY"});
  EXPECT_EQ(loaded.config.roles.executor, "cerebras-gpt-oss");
}

}  // namespace
}  // namespace tandem::config
