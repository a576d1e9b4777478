// What tandem's MCP client adds to a tool call: tools/call "echo" through
// mcp::Client (request built with its JSON-RPC envelope, response parsed,
// matched by id, content flattened) against the same server spoken to
// directly (the same request line written and one reply line read, no
// JSON work); the difference is tandem's overhead, the server's own time
// and the pipe round trip being in both. Also the server's start plus
// version negotiation (2026-07-28 and the 2025-11-25 fallback).
// The server is tests/mcp/fake_server.js under node.
// And the other direction: a tandem_status call round trip through
// `tandem mcp serve` (the real binary, spoken to by mcp::Client), against
// running `tandem status --json` as a process for the same answer.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>

#include "tandem/mcp/client.h"
#include "tandem/platform/process.h"

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

// A git repository with one commit, and an empty configuration home, made
// once per process.
struct ServeRepo {
  std::string root;
  std::string config_home;
  ServeRepo() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tandem_serve_bench_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    root = tmpl + "/repo";
    config_home = tmpl + "/xdg";
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(config_home);
    tandem::platform::ProcessSpec git;
    git.argv = {"sh", "-c",
                "git init -q . && echo x > a.txt && git add a.txt && git -c user.name=b "
                "-c user.email=b@example.com commit -q -m init"};
    git.cwd = root;
    auto done = tandem::platform::RunProcess(git);
    if (!done || !done->ok()) root.clear();
  }
};
const ServeRepo& Repo() {
  static const ServeRepo repo;
  return repo;
}

tandem::platform::ProcessSpec TandemSpec(std::vector<std::string> args) {
  tandem::platform::ProcessSpec spec;
  spec.argv = {std::string(TANDEM_BINARY_DIR) + "/tandem", "-C", Repo().root};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env["XDG_CONFIG_HOME"] = Repo().config_home;
  return spec;
}

void BM_TandemServeStatusCall(benchmark::State& state) {
  if (Repo().root.empty()) return state.SkipWithError("no repository");
  ClientOptions o;
  o.name = "tandem";
  o.spec = TandemSpec({"mcp", "serve"});
  auto client = Client::Connect(std::move(o));
  if (!client) return state.SkipWithError(client.error().message().c_str());
  for (auto _ : state) {
    auto r = (*client)->CallTool("tandem_status", nlohmann::json::object());
    if (!r || r->is_error) return state.SkipWithError(r ? r->text.c_str() : r.error().message().c_str());
    benchmark::DoNotOptimize(r->text);
  }
}
BENCHMARK(BM_TandemServeStatusCall)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_TandemStatusProcess(benchmark::State& state) {
  if (Repo().root.empty()) return state.SkipWithError("no repository");
  tandem::platform::ProcessSpec spec = TandemSpec({"status", "--json"});
  for (auto _ : state) {
    auto r = tandem::platform::RunProcess(spec);
    if (!r || !r->ok()) return state.SkipWithError(r ? r->output.c_str() : r.error().message().c_str());
    benchmark::DoNotOptimize(r->output);
  }
}
BENCHMARK(BM_TandemStatusProcess)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
