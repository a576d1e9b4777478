// HttpTransport: many concurrent streaming HTTP requests on ONE I/O thread.
//
// A libcurl multi handle is driven by a single background thread through
// curl's event interface: an epoll set holds the sockets curl asks about and
// an eventfd that other threads write when work arrives; each wake-up hands
// curl only the sockets that are ready (curl_multi_socket_action), so its
// cost does not grow with the number of idle streams. There is no thread per
// request. Each transfer reports body bytes as they arrive and then completes
// exactly once. Linux only (epoll, eventfd).
//
// Features the model clients need: a connect timeout, an idle timeout (no
// byte received for N ms), a whole-request timeout, a start delay (retry
// backoff without a sleeping thread), a per-pool cap on transfers in flight
// (requests beyond it wait in FIFO order), and cancellation from any thread.
//
// Error messages never contain request headers or bodies, and pass through
// Redactor, so an API key registered there cannot leak through them.
//
// Thread-safety: Start and Cancel may be called from any thread, including
// from inside a callback. Callbacks run on the I/O thread: they must be quick
// and must not block on other transfers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::net {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent as a POST; empty + !post -> GET
  bool post = true;
  std::string pool;         // transfers sharing a pool share its cap (e.g. provider name)
  int max_concurrent = 0;   // cap for `pool` (0 = unlimited); the latest request's value wins
  int connect_timeout_ms = 5000;
  int idle_timeout_ms = 0;   // 0 = none
  int total_timeout_ms = 0;  // 0 = none
  int start_delay_ms = 0;    // hold the transfer this long before it queues for its pool
};

enum class TransferError {
  kNone,
  kConnect,         // could not resolve/connect/handshake
  kConnectTimeout,  // connect_timeout_ms passed
  kIdleTimeout,     // no byte for idle_timeout_ms
  kTotalTimeout,    // total_timeout_ms passed
  kNetwork,         // the connection failed after it was made (reset, truncated body, ...)
  kAborted,         // the body callback returned false
  kCancelled,       // Cancel(), or the transport shut down
};

const char* TransferErrorName(TransferError e);

struct HttpResult {
  using Clock = std::chrono::steady_clock;
  TransferError error = TransferError::kNone;
  std::string error_message;  // redacted; empty when error == kNone
  int status = 0;             // HTTP status; 0 when no response arrived
  std::map<std::string, std::string> headers;  // lowercased names; last value wins
  uint64_t body_bytes = 0;
  Clock::time_point started;     // handed to curl (after delay and pool queue)
  Clock::time_point first_byte;  // first body byte; == started when none arrived
  Clock::time_point finished;
};

struct TransferCallbacks {
  // Body bytes as they arrive, with the response's HTTP status. Return false
  // to stop the transfer (it then completes with kAborted).
  std::function<bool(int status, std::string_view chunk)> on_body;
  // Called exactly once, after the last on_body.
  std::function<void(HttpResult result)> on_done;
};

using TransferId = uint64_t;

class HttpTransport {
 public:
  HttpTransport();  // starts the I/O thread
  // Cancels every transfer (each on_done still runs, with kCancelled) and
  // joins the I/O thread. From inside a callback (the last owner let go
  // there) it cannot join: the I/O thread finishes the cancellations and
  // exits on its own.
  ~HttpTransport();

  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  TransferId Start(HttpRequest request, TransferCallbacks callbacks);

  // Stops the transfer; its on_done runs with kCancelled unless it already
  // completed. Unknown or finished ids are ignored.
  void Cancel(TransferId id);

  // Inside an on_body callback: when the current chunk came off the socket
  // (taken in curl's write callback). For latency measurement.
  static std::chrono::steady_clock::time_point ChunkArrivalTime();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the I/O thread
};

}  // namespace tandem::net
