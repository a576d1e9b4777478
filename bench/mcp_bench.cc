// What tandem's MCP client adds to a tool call: tools/call "echo" through
// mcp::Client (request built with its JSON-RPC envelope, response parsed,
// matched by id, content flattened) against the same server spoken to
// directly (the same request line written and one reply line read, no
// JSON work); the difference is tandem's overhead, the server's own time
// and the pipe round trip being in both. Also the server's start plus
// version negotiation (2026-07-28 and the 2025-11-25 fallback).
// The server is tests/mcp/fake_server.js under node.
#include <benchmark/benchmark.h>
#include <signal.h>

#include "tandem/mcp/client.h"

namespace {

using namespace tandem::mcp;
using std::chrono::milliseconds;

ClientOptions Fake(const std::string& mode) {
  ClientOptions o;
  o.name = "bench";
  o.spec.argv = {"node", std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js", mode};
  return o;
}

void BM_McpCallThroughClient(benchmark::State& state) {
  auto client = Client::Connect(Fake("modern"));
  if (!client) return state.SkipWithError(client.error().message().c_str());
  nlohmann::json args = {{"text", "hello"}};
  for (auto _ : state) {
    auto r = (*client)->CallTool("echo", args);
    if (!r) return state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r->text);
  }
}
BENCHMARK(BM_McpCallThroughClient)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_McpCallDirect(benchmark::State& state) {
  tandem::platform::ProcessSpec spec = Fake("modern").spec;
  auto process = StdioProcess::Start(spec);
  if (!process) return state.SkipWithError(process.error().message().c_str());
  auto deadline = [] { return StdioProcess::Clock::now() + milliseconds(5000); };
  // The server's handshake, once.
  if (!(*process)->WriteLine(R"({"jsonrpc":"2.0","id":0,"method":"server/discover","params":{}})", deadline(), {}).ok() ||
      !(*process)->ReadLine(deadline(), {}).has_value()) {
    return state.SkipWithError("no handshake");
  }
  const std::string line =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"hello"},"name":"echo"}})";
  for (auto _ : state) {
    if (!(*process)->WriteLine(line, deadline(), {}).ok()) return state.SkipWithError("write");
    auto reply = (*process)->ReadLine(deadline(), {});
    if (!reply) return state.SkipWithError("read");
    benchmark::DoNotOptimize(*reply);
  }
}
BENCHMARK(BM_McpCallDirect)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_McpStart(benchmark::State& state) {
  const std::string mode = state.range(0) == 0 ? "modern" : "legacy";
  for (auto _ : state) {
    auto client = Client::Connect(Fake(mode));
    if (!client) return state.SkipWithError(client.error().message().c_str());
    state.PauseTiming();
    (*client)->Shutdown();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_McpStart)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(10)->Repetitions(3)->ReportAggregatesOnly(true);

const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
