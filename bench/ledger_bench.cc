// Ledger write and lookup costs. The headline figure is BM_StepWrites: one
// step's worth of rows (BeginStep, 1 model call, 3 tool calls, 2 gate runs,
// EndStep) per iteration, for each durability mode. Run with
//   ledger_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// and read the median. The ledger lives in $TMPDIR (the disk it uses matters:
// kPowerLoss pays for one fsync per step).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tandem/ledger/ledger.h"

namespace tandem::ledger {
namespace {

struct BenchLedger {
  explicit BenchLedger(Durability durability) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ledger_bench_XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    auto opened =
        Ledger::Open(LedgerOptions{dir / "ledger.db", [this] { return ++now; }, durability});
    if (!opened) std::abort();
    ledger = std::move(*opened);
    if (!ledger->BeginRun(RunStart{.id = "bench", .kind = "do"}).ok()) std::abort();
  }
  ~BenchLedger() {
    ledger.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  int64_t now = 1'700'000'000'000;
  std::unique_ptr<Ledger> ledger;
};

void WriteOneStep(Ledger& ledger, int64_t i) {
  auto step = ledger.BeginStep(StepStart{.run_id = "bench", .checkpoint_before = "cp"});
  if (!step) std::abort();
  bool ok = ledger
                .RecordModelCall(ModelCallRecord{.step_id = *step,
                                                 .role = "executor",
                                                 .provider = "cerebras",
                                                 .model = "qwen-3",
                                                 .tokens_in = 1200,
                                                 .tokens_out = 300,
                                                 .tokens_cached = 1000,
                                                 .cost_usd = 0.001,
                                                 .ttft_ms = 150,
                                                 .duration_ms = 400})
                .ok();
  for (const char* tool : {"read_file", "edit_file", "run_command"}) {
    ok &= ledger
              .RecordToolCall(ToolCallRecord{.step_id = *step,
                                             .name = tool,
                                             .args_summary = "src/tandem/ledger/ledger.cc:1-80",
                                             .duration_ms = 2,
                                             .detail = "ok, 80 lines"})
              .ok();
  }
  std::string tree = "tree" + std::to_string(i);
  for (const char* gate : {"build", "test"}) {
    ok &= ledger
              .RecordGateRun(GateRunRecord{.step_id = *step,
                                           .gate = gate,
                                           .command = "cmake --build build",
                                           .tree_hash = tree,
                                           .duration_ms = 900,
                                           .exit_code = 0,
                                           .output_excerpt = "100% tests passed"})
              .ok();
  }
  ok &= ledger
            .EndStep(*step,
                     StepEnd{.checkpoint_after = "cp2", .lines_changed = 12, .files_changed = 2})
            .ok();
  if (!ok) std::abort();
}

void BM_StepWrites(benchmark::State& state) {
  BenchLedger b(static_cast<Durability>(state.range(0)));
  int64_t i = 0;
  for (auto _ : state) WriteOneStep(*b.ledger, i++);
  state.SetLabel(state.range(0) == static_cast<int>(Durability::kProcessCrash) ? "process_crash"
                                                                               : "power_loss");
}
BENCHMARK(BM_StepWrites)
    ->Arg(static_cast<int>(Durability::kProcessCrash))
    ->Arg(static_cast<int>(Durability::kPowerLoss))
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);

// A ledger holding 5,000 steps (10,000 gate rows), built once and shared.
constexpr int64_t kFilledSteps = 5000;
Ledger& FilledLedger() {
  static BenchLedger* b = [] {
    auto* filled = new BenchLedger(Durability::kProcessCrash);
    for (int64_t i = 0; i < kFilledSteps; ++i) WriteOneStep(*filled->ledger, i);
    return filled;
  }();
  return *b->ledger;
}

void BM_GateCacheLookup(benchmark::State& state) {
  Ledger& ledger = FilledLedger();
  int64_t i = 0;
  for (auto _ : state) {
    auto hit = ledger.GateCacheLookup("tree" + std::to_string(i++ % (2 * kFilledSteps)), "test",
                                      "cmake --build build");
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_GateCacheLookup)->Unit(benchmark::kMicrosecond);

// Resume's first query, on the filled ledger.
void BM_FindInterruptedSteps(benchmark::State& state) {
  Ledger& ledger = FilledLedger();
  for (auto _ : state) {
    auto steps = ledger.FindInterruptedSteps();
    benchmark::DoNotOptimize(steps);
  }
}
BENCHMARK(BM_FindInterruptedSteps)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tandem::ledger

BENCHMARK_MAIN();
