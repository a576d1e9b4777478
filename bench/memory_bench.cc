// Memory-file costs on the resume path: parsing a 100-task plan.md, one
// SetTaskState (parse + one-byte edit + fsynced atomic replace), and
// extracting a task's part of a large progress.md.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "tandem/platform/atomic_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"

namespace {
using namespace tandem::memory;
namespace fs = std::filesystem;

std::string BigPlan(int tasks) {
  Plan plan;
  plan.goal = "benchmark";
  for (int i = 0; i < tasks; ++i) {
    PlanTask t;
    t.id = "T" + std::to_string(i);
    t.title = "Task number " + std::to_string(i);
    t.state = i < tasks - 1 ? TaskState::kDone : TaskState::kPending;
    t.what = "Change src/mod" + std::to_string(i) + ".cc so that it does the thing.\nThen test it.";
    t.scope = {"src/mod" + std::to_string(i) + ".cc", "tests/mod" + std::to_string(i) + "_test.cc"};
    t.gates = std::vector<std::string>{"build", "test"};
    if (i > 0) t.after = {"T" + std::to_string(i - 1)};
    plan.tasks.push_back(std::move(t));
  }
  return RenderPlan(plan);
}

void BM_ParsePlan100(benchmark::State& state) {
  std::string text = BigPlan(100);
  for (auto _ : state) benchmark::DoNotOptimize(ParsePlan(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParsePlan100);

void BM_SetTaskState100(benchmark::State& state) {
  fs::path dir = fs::temp_directory_path() / ("memory_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path path = dir / "plan.md";
  (void)tandem::platform::WriteFileAtomically(path, BigPlan(100));
  bool running = false;
  for (auto _ : state) {
    running = !running;
    benchmark::DoNotOptimize(SetTaskState(path, "T99", running ? TaskState::kRunning : TaskState::kPending));
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_SetTaskState100)->Unit(benchmark::kMicrosecond);

void BM_ExtractForTask(benchmark::State& state) {
  std::string text = "# Progress\n\n## Notes\n";
  for (int i = 0; i < 200; ++i) text += "- steer: general note " + std::to_string(i) + "\n";
  for (int t = 0; t < 100; ++t) {
    text += "\n## T" + std::to_string(t) + ": task\n- outcome: done (1 retry)\n- summary: did it\n";
    for (int i = 0; i < 10; ++i) text += "- failure: attempt " + std::to_string(i) + std::string(200, 'e') + "\n";
  }
  for (auto _ : state) benchmark::DoNotOptimize(ExtractForTask(text, "T50", 8192, {"T49"}));
  state.SetLabel(std::to_string(text.size() / 1024) + " KB progress.md, 8 KB budget");
}
BENCHMARK(BM_ExtractForTask)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
