// Configuration loading sits on the start-up path of every command that
// talks to a model. Measures: load (defaults + a user and a repo file +
// overrides) + discovery + resolving all three roles.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tandem/config/discovery.h"
#include "tandem/config/loader.h"
#include "tandem/config/resolve.h"

namespace {

using namespace tandem::config;  // NOLINT: benchmark file

struct Files {
  Files() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tandem-cfgbench-XXXXXX").string();
    root = mkdtemp(pattern.data());
    Write(root + "/home/.config/tandem/config.toml",
          "[providers.cerebras]\nmax_concurrent_requests = 32\n[limits]\nmax_cost_usd = 2.0\n");
    Write(root + "/repo/.tandem/config.toml",
          "[models.fast]\nprovider = \"cerebras\"\nid = \"gpt-oss-120b\"\nprice_input = 0.35\n"
          "price_output = 0.75\n[roles]\nplanner = \"claude-opus\"\nexecutor = \"fast\"\n"
          "[guardrails]\nscope = [\"src/**\", \"tests/**\"]\n[sandbox]\nmode = \"auto\"\n");
  }
  ~Files() { std::filesystem::remove_all(root); }
  static void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string root;
};

void BM_LoadDiscoverResolve(benchmark::State& state) {
  Files files;
  Env env{{"CEREBRAS_API_KEY", "csk-bench-00000000000000000000"},
          {"ANTHROPIC_API_KEY", "sk-ant-bench-000000000000000000"}};
  ConfigInputs inputs{files.root + "/home", files.root + "/repo", env, {"limits.max_steps=30"}};
  for (auto _ : state) {
    tandem::Result<LoadedConfig> loaded = LoadConfig(inputs);
    if (!loaded) state.SkipWithError(loaded.error().message().c_str());
    Discover(*loaded, env, nullptr);
    for (Role role : kAllRoles) benchmark::DoNotOptimize(ResolveRole(loaded->config, env, role));
  }
}
BENCHMARK(BM_LoadDiscoverResolve)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
