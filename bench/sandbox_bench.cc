// The cost of confining a child: building its environment, starting it under
// bubblewrap (home hidden, toolchain dirs bound, credential paths masked) and
// a gate round in the sandbox, each against the same work unconfined.
// Results: docs/PERFORMANCE.md, "Sandbox start for commands and gates".
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tandem/platform/child_env.h"
#include "tandem/platform/process.h"
#include "tandem/platform/sandbox.h"
#include "tandem/verify/runner.h"

namespace {

namespace fs = std::filesystem;
using tandem::platform::ChildPolicy;

// A workspace with a read-only .git, made once per process.
const fs::path& Workspace() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("tandem_sandbox_bench_" + std::to_string(::getpid()));
    fs::create_directories(d / ".git");
    std::ofstream(d / ".git/HEAD") << "ref: refs/heads/main\n";
    return d;
  }();
  return dir;
}

ChildPolicy DefaultPolicy() {
  ChildPolicy policy;
  policy.home_dirs = {".cargo", ".rustup", "go",      ".m2",   ".gradle",    ".npm",
                      ".nvm",   ".pyenv",  ".rbenv",  ".sdkman", ".volta",   ".deno",
                      ".bun",   ".dotnet", ".local/bin", ".local/lib"};
  return policy;
}

void BM_BuildChildEnv(benchmark::State& state) {
  const tandem::platform::EnvMap parent = tandem::platform::ProcessEnvironment();
  for (auto _ : state) benchmark::DoNotOptimize(tandem::platform::BuildChildEnv(parent, {}));
}
BENCHMARK(BM_BuildChildEnv)->Unit(benchmark::kMicrosecond);

// `bash -c true` as run_command starts it: direct (inherited environment)
// versus confined (child environment, sandbox).
void BM_CommandDirect(benchmark::State& state) {
  tandem::platform::ProcessSpec spec;
  spec.argv = {"bash", "--noprofile", "--norc", "-c", "true"};
  spec.cwd = Workspace().string();
  for (auto _ : state) benchmark::DoNotOptimize(tandem::platform::RunProcess(spec));
}
BENCHMARK(BM_CommandDirect)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CommandConfined(benchmark::State& state) {
  const auto& probe = tandem::platform::ProbeSandbox();
  if (!probe.available) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  for (auto _ : state) {
    tandem::platform::ProcessSpec spec;
    tandem::platform::ConfineProcess(probe.bwrap, DefaultPolicy(), Workspace().string(), "",
                                     {"bash", "--noprofile", "--norc", "-c", "true"}, {}, &spec);
    benchmark::DoNotOptimize(tandem::platform::RunProcess(spec));
  }
}
BENCHMARK(BM_CommandConfined)->Unit(benchmark::kMillisecond)->UseRealTime();

// One gate round of `state.range(0)` trivial gates (in parallel), without
// and with the sandbox.
void GateRound(benchmark::State& state, bool sandboxed) {
  const auto& probe = tandem::platform::ProbeSandbox();
  if (sandboxed && !probe.available) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  std::vector<tandem::verify::Gate> gates;
  for (int i = 0; i < state.range(0); ++i) {
    tandem::verify::Gate gate;
    gate.name = "g" + std::to_string(i);
    gate.command = "true";
    gates.push_back(gate);
  }
  tandem::verify::GateRunOptions options;
  options.workspace = Workspace();
  options.child = DefaultPolicy();
  if (sandboxed) options.bwrap = probe.bwrap;
  for (auto _ : state) benchmark::DoNotOptimize(tandem::verify::RunGates(gates, options));
}
void BM_GateRoundDirect(benchmark::State& state) { GateRound(state, false); }
void BM_GateRoundSandboxed(benchmark::State& state) { GateRound(state, true); }
BENCHMARK(BM_GateRoundDirect)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GateRoundSandboxed)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same starts one at a time, 100 of them: each repetition is one start,
// so the aggregates are over single starts. On a loaded machine the minimum is
// the start that did not wait for a core, the closest it gets to a quiet one.
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
BENCHMARK(BM_CommandDirect)->Iterations(1)->Repetitions(100)->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CommandConfined)->Iterations(1)->Repetitions(100)->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond)->UseRealTime();
// A round of one gate measured the same way, so a gate round and a command
// start compare like for like (BM_GateRound* above run rounds back to back,
// where each start also meets the teardown of the previous one's namespaces).
BENCHMARK(BM_GateRoundDirect)->Arg(1)->Iterations(1)->Repetitions(100)
    ->ComputeStatistics("min", Min)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_GateRoundSandboxed)->Arg(1)->Iterations(1)->Repetitions(100)
    ->ComputeStatistics("min", Min)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
