// What redaction costs: Redactor::Apply runs on every tool result, gate
// output excerpt, ledger excerpt, progress.md write and request turn. The
// text is command output of the usual kind (compiler lines, test lines, a
// git hash, a base64 line), 4 KiB, 64 KiB and 1 MiB, holding no secret (the
// common case) or one secret raw and encoded per KiB; with 1, 8 and 32
// registered secrets (tandem registers every value it removes from a child's
// environment, so a developer machine has tens).
//
// Registered secrets cannot be unregistered: the benchmarks run in order of
// the secret count, each registering up to its count.
#include <benchmark/benchmark.h>

#include <string>

#include "tandem/base/redact.h"

namespace {

using tandem::Redactor;

std::string Secret(int i) { return "bench-secret-" + std::to_string(i) + "-Zq8vX1kP"; }

void RegisterUpTo(int n) {
  for (int i = 0; i < n; ++i) Redactor::Register(Secret(i));
}

// Deterministic command output of `bytes` bytes; with `secrets`, every KiB
// or so holds secret 0 raw and in base64 (aligned and not).
std::string Output(size_t bytes, bool secrets) {
  static const char* kLines[] = {
      "src/tandem/agent/turn_loop.cc:123:45: error: 'budget' was not declared in this scope\n",
      "[ RUN      ] VerifiedStep.RollsBackAFailedGateAndRetries\n",
      "[       OK ] VerifiedStep.RollsBackAFailedGateAndRetries (12 ms)\n",
      "commit 3f9a1c2e7b4d5a6f8e9d0c1b2a3f4e5d6c7b8a90\n",
      "    at Object.<anonymous> (/work/repo/test/parser.test.js:42:17)\n",
      "dGhpcyBpcyBhIGJhc2U2NCBsaW5lIHRoYXQgaG9sZHMgbm8gc2VjcmV0IGF0IGFsbA==\n",
      "warning: unused variable 'n' [-Wunused-variable]\n",
      "Compiling tandem v0.1.0 (/work/repo)\n",
  };
  std::string out;
  size_t i = 0;
  size_t next_secret = 1024;
  while (out.size() < bytes) {
    out += kLines[i++ % (sizeof kLines / sizeof kLines[0])];
    if (secrets && out.size() >= next_secret) {
      out += "token " + Secret(0) + "\nYmVuY2gtc2VjcmV0LTAtWnE4dlgxa1A=\n";
      next_secret += 1024;
    }
  }
  out.resize(bytes);
  return out;
}

void BM_Apply(benchmark::State& state) {
  RegisterUpTo(static_cast<int>(state.range(0)));
  const std::string text = Output(static_cast<size_t>(state.range(1)), state.range(2) != 0);
  for (auto _ : state) {
    std::string out = Redactor::Apply(text);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}
BENCHMARK(BM_Apply)
    ->ArgNames({"secrets", "bytes", "holds"})
    ->ArgsProduct({{1, 8, 32}, {4096, 65536, 1 << 20}, {0, 1}})
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
