// Many concurrent streams: 64 replies at 1,200 tokens/s each from the
// scripted model server (a separate process, so its CPU is not counted).
// Reports the client process's CPU time as % of one core over the streaming
// window, the achieved per-stream token rate, and the delay from a chunk's
// arrival at the transport (curl write callback) to its event's delivery to
// the observer (OnEvent), as median and p99.
//
// Usage: streams_bench [streams=64] [tokens_per_second=1200] [tokens=2400]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tandem/net/http_transport.h"
#include "tandem/providers/model_client.h"
#include "tests/support/model_server_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using tandem::providers::WireFormat;

// Called on the I/O thread only, so no locking.
class LatencyObserver : public tandem::providers::StreamObserver {
 public:
  void OnEvent(const tandem::protocol::StreamEvent&) override {
    auto delay = Clock::now() - tandem::net::HttpTransport::ChunkArrivalTime();
    delays_us.push_back(std::chrono::duration<double, std::micro>(delay).count());
  }
  std::vector<double> delays_us;
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

int Run(WireFormat wire, int streams, int tps, int tokens) {
  std::string text;
  for (int i = 0; i < tokens; ++i) text += " word";
  tandem::testing::ModelServerOptions o;
  o.script_json = nlohmann::json({{"turns", {{{"text", text}}}}}).dump();
  o.tokens_per_second = tps;
  o.ttft_ms = 100;
  auto server = tandem::testing::ModelServerProcess::Start(o);
  if (!server) {
    std::fprintf(stderr, "model server: %s\n", server.error().ToString().c_str());
    return 1;
  }
  auto transport = std::make_shared<tandem::net::HttpTransport>();
  tandem::providers::ProviderSettings s;
  s.name = "bench";
  s.wire = wire;
  s.base_url = (*server)->base_url();
  s.max_concurrent = streams;
  auto client = tandem::providers::MakeModelClient(s, {}, transport);

  tandem::protocol::ModelRequest rq;
  rq.model = "scripted-model";
  rq.system = "bench";
  rq.max_tokens = tokens + 100;
  rq.messages.push_back(tandem::protocol::Message::User("go"));

  std::vector<LatencyObserver> observers(static_cast<size_t>(streams));
  std::vector<std::unique_ptr<tandem::providers::PendingReply>> replies;
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  for (auto& obs : observers) replies.push_back(client->Start(rq, &obs));
  std::vector<double> rates;
  int64_t output_tokens = 0;
  for (auto& r : replies) {
    auto result = r->Wait();
    if (!result) {
      std::fprintf(stderr, "stream failed: %s\n", result.error().message.c_str());
      return 1;
    }
    rates.push_back(result->timings.output_tokens_per_s);
    output_tokens += result->usage.output_tokens;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  std::vector<double> delays;
  for (auto& obs : observers) delays.insert(delays.end(), obs.delays_us.begin(), obs.delays_us.end());

  std::printf("%s: %d streams x %d tokens at %d tok/s: wall %.2f s, %lld tokens, per-stream rate median %.0f tok/s\n",
              wire == WireFormat::kOpenAI ? "openai" : "anthropic", streams, tokens, tps, wall,
              static_cast<long long>(output_tokens), Percentile(rates, 0.5));
  std::printf("  client CPU: %.3f s = %.1f %% of one core\n", cpu, 100.0 * cpu / wall);
  std::printf("  chunk arrival -> OnEvent: median %.1f us, p99 %.1f us (%zu events)\n", Percentile(delays, 0.5),
              Percentile(delays, 0.99), delays.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int streams = argc > 1 ? std::atoi(argv[1]) : 64;
  int tps = argc > 2 ? std::atoi(argv[2]) : 1200;
  int tokens = argc > 3 ? std::atoi(argv[3]) : 2400;
  int rc = Run(WireFormat::kOpenAI, streams, tps, tokens);
  if (rc == 0) rc = Run(WireFormat::kAnthropic, streams, tps, tokens);
  return rc;
}
