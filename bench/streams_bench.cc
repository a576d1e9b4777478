// Many concurrent streams: 64 replies at 1,200 tokens/s each from the
// scripted model server (a separate process, so its CPU is not counted).
// Reports the client process's CPU time as % of one core over the streaming
// window (and per event, scaled to the requested rate), the achieved
// per-stream token rate, and the delay from a chunk's
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

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

// The process's CPU time so far; `system` gets the kernel's part (on
// loopback most of the receive path, ACKs included, runs in the reader).
double CpuSeconds(double* system = nullptr) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  if (system != nullptr) *system = Seconds(u.ru_stime);
  return Seconds(u.ru_utime) + Seconds(u.ru_stime);
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
  s.limits.max_concurrent_requests = streams;
  auto client = tandem::providers::MakeModelClient(s, {}, transport);

  tandem::protocol::ModelRequest rq;
  rq.model = "scripted-model";
  rq.system = "bench";
  rq.max_tokens = tokens + 100;
  rq.messages.push_back(tandem::protocol::Message::User("go"));

  std::vector<LatencyObserver> observers(static_cast<size_t>(streams));
  std::vector<std::unique_ptr<tandem::providers::PendingReply>> replies;
  double sys0 = 0;
  const double cpu0 = CpuSeconds(&sys0);
  const auto t0 = Clock::now();
  for (auto& obs : observers) replies.push_back(client->Start(rq, &obs));
  std::vector<double> rates;     // the client's own figure (base/token_rate.h)
  std::vector<double> sustained;  // tokens / (end - request - ttft): the schedule held from the start
  int64_t output_tokens = 0;
  for (auto& r : replies) {
    auto result = r->Wait();
    if (!result) {
      std::fprintf(stderr, "stream failed: %s\n", result.error().message.c_str());
      return 1;
    }
    rates.push_back(result->timings.output_tokens_per_s);
    sustained.push_back(static_cast<double>(result->usage.output_tokens) /
                        ((result->timings.total_ms - o.ttft_ms) / 1000.0));
    output_tokens += result->usage.output_tokens;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double sys1 = 0;
  const double cpu = CpuSeconds(&sys1) - cpu0;
  const double sys = sys1 - sys0;
  std::vector<double> delays;
  for (auto& obs : observers) delays.insert(delays.end(), obs.delays_us.begin(), obs.delays_us.end());

  std::printf("%s: %d streams x %d tokens at %d tok/s: wall %.2f s, %lld tokens, per-stream rate median %.0f tok/s\n",
              wire == WireFormat::kOpenAI ? "openai" : "anthropic", streams, tokens, tps, wall,
              static_cast<long long>(output_tokens), Percentile(rates, 0.5));
  std::printf("  per-stream rate from the request (less ttft): median %.0f, min %.0f tok/s\n",
              Percentile(sustained, 0.5), Percentile(sustained, 0));
  // CPU per event, and what it comes to at the requested rate: the figure
  // that still holds when a loaded machine keeps the server below that rate.
  const double cpu_per_event_us = delays.empty() ? 0 : 1e6 * cpu / static_cast<double>(delays.size());
  std::printf("  client CPU: %.3f s (%.0f %% kernel) = %.1f %% of one core; %.2f us per event = %.1f %% at %d x %d events/s\n",
              cpu, cpu > 0 ? 100.0 * sys / cpu : 0.0, 100.0 * cpu / wall, cpu_per_event_us,
              cpu_per_event_us * streams * tps / 1e4, streams, tps);
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
