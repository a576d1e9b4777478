// ExcerptFailure on large gate outputs: the cost tandem adds to every failing
// gate before the model sees it.
#include <benchmark/benchmark.h>

#include <string>

#include "tandem/verify/excerpt.h"

namespace {

// A ~1 MiB ninja log with one compiler error in the middle.
std::string BuildLog() {
  std::string log;
  int i = 0;
  while (log.size() < (1u << 20)) {
    ++i;
    log += "[" + std::to_string(i) + "/20000] Building CXX object src/CMakeFiles/lib.dir/f" +
           std::to_string(i) + ".cc.o\n";
    if (i == 6000) log += "/src/main.cc:12:5: error: 'x' was not declared in this scope\n";
  }
  return log + "ninja: build stopped: subcommand failed.\n";
}

// A ~1 MiB log where every line is an error (worst case for selection).
std::string AllErrors() {
  std::string log;
  for (int i = 0; log.size() < (1u << 20); ++i) {
    log += "/src/f" + std::to_string(i) + ".c:1:1: error: unknown type name 'foo'\n";
  }
  return log;
}

void BM_ExcerptBuildLog1MiB(benchmark::State& state) {
  std::string log = BuildLog();
  for (auto _ : state) benchmark::DoNotOptimize(tandem::verify::ExcerptFailure(log));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.size()));
}
BENCHMARK(BM_ExcerptBuildLog1MiB)->Unit(benchmark::kMillisecond);

void BM_ExcerptAllErrors1MiB(benchmark::State& state) {
  std::string log = AllErrors();
  for (auto _ : state) benchmark::DoNotOptimize(tandem::verify::ExcerptFailure(log));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.size()));
}
BENCHMARK(BM_ExcerptAllErrors1MiB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
