// The scripted model server: OpenAI and Anthropic endpoints over cpp-httplib,
// answering from a Script with injected faults (see /tmp/server_contract.md).
//
// Thread-safety: requests are served concurrently from a 256-thread pool;
// Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tests/model_server/faults.h"
#include "tests/model_server/prefix_cache.h"
#include "tests/model_server/recorder.h"
#include "tests/model_server/script.h"
#include "tests/model_server/stop_signal.h"
#include "tests/model_server/wire_format.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tandem::model_server {

struct ServerOptions {
  Script script;
  int tokens_per_second = 1200;  // already merged: script value wins over the flag
  int ttft_ms = 150;
  // Uncached prompt tokens per second: the time to first token grows by
  // (input - cached) / this, as a provider's prefill does. 0: no prefill time.
  int prefill_tokens_per_second = 0;
  std::string api_key;        // empty: no authentication
  std::vector<Fault> faults;  // --fault: apply to every request
  std::string record_path;    // empty: no recording
};

class ModelServer {
 public:
  static Result<std::unique_ptr<ModelServer>> Create(ServerOptions options);
  ~ModelServer();

  // Binds 127.0.0.1:port (0 = any free port); returns the bound port.
  Result<int> Bind(int port);
  // Serves until Stop(). REQUIRES: Bind succeeded.
  void Serve();
  void Stop();

 private:
  explicit ModelServer(ServerOptions options);

  void HandleModels(const httplib::Request& request, httplib::Response& response);
  void HandleGenerate(const WireFormat& wire, const httplib::Request& request,
                      httplib::Response& response);
  ActiveFaults TakeFaults(size_t turn_index);
  Reply MakeReply(const WireFormat& wire, size_t turn_index, long long seq, bool bad_json) const;
  void Record(long long seq, const httplib::Request& request, const nlohmann::json& body,
              std::optional<size_t> turn, std::optional<FaultKind> fault, int status,
              std::optional<int> in_flight = std::nullopt);

  ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<WireFormat> openai_;
  std::unique_ptr<WireFormat> anthropic_;
  std::vector<FaultSlot> global_slots_;
  std::vector<std::vector<FaultSlot>> turn_slots_;  // [turn][fault]
  std::unique_ptr<Recorder> recorder_;
  PrefixCache prefix_cache_;
  StopSignal stop_;
  std::atomic<long long> next_seq_{1};
  // Generation requests being answered now (see the record's in_flight).
  std::atomic<int> in_flight_{0};
  int listen_socket_ = -1;  // set while binding
};

}  // namespace tandem::model_server
