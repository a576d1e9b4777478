// Fault injection for the scripted model server.
//
// A Fault describes one way a request goes wrong (an HTTP error status, or a
// stream that is cut, stalled, corrupted or fails mid-way). A FaultSlot counts
// how many requests a fault has already hit so that `times` is honoured
// across concurrent requests.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::model_server {

enum class FaultKind {
  kHttp429,
  kHttp500,
  kHttp503,
  kHttp529,
  kHttp400,
  kHttp401,
  kReset,        // abort the connection mid-stream (incomplete chunked body)
  kTruncate,     // end the body cleanly but without [DONE] / message_stop
  kStall,        // pause the stream for stall_ms, then continue
  kBadToolJson,  // tool-call arguments are malformed JSON
  kErrorEvent,   // a mid-stream error event after HTTP 200
};

// The wire name, e.g. "http_429", "bad_tool_json".
std::string_view FaultKindName(FaultKind kind);
std::optional<FaultKind> ParseFaultKind(std::string_view name);

// True for the kinds answered with an HTTP error status instead of a stream.
bool IsHttpFault(FaultKind kind);
// The HTTP status of an HTTP fault kind (429, 500, ...). REQUIRES: IsHttpFault.
int HttpFaultStatus(FaultKind kind);

struct Fault {
  FaultKind kind = FaultKind::kHttp500;
  int times = 1;  // requests it applies to; <= 0 means every request
  int after_tokens = 0;
  int stall_ms = 0;
  std::optional<int> retry_after_s;   // -> `retry-after` header (http_429)
  std::optional<int> retry_after_ms;  // -> `retry-after-ms` header (http_429)
  // -> `retry-after: <HTTP date this many seconds after the response>`
  // (http_429); the date has whole seconds, so the wait is within (N-1, N].
  std::optional<int> retry_after_date_s;
};

// Parses a script entry {"kind": "...", "times": 1, ...}. Errors name the
// offending field, prefixed with `where` (e.g. "turns[0].faults[1]").
Result<Fault> FaultFromJson(const nlohmann::json& value, std::string_view where);

// Parses a command-line spec "kind[:key=value,key=value...]", e.g.
// "http_429:times=2,retry_after_ms=100". Without `times`, a command-line
// fault applies to every request.
Result<Fault> ParseFaultSpec(std::string_view spec);

// Thread-safe budget of one fault: Take() is true for the first `times`
// calls (always, when times <= 0).
class FaultSlot {
 public:
  explicit FaultSlot(Fault fault) : fault_(std::move(fault)) {}
  FaultSlot(const FaultSlot& other) : fault_(other.fault_), used_(other.used_.load()) {}

  const Fault& fault() const { return fault_; }
  bool Take();

 private:
  Fault fault_;
  std::atomic<int> used_{0};
};

// The faults that hit one request.
struct ActiveFaults {
  std::optional<Fault> http;  // answered instead of a normal response
  std::vector<Fault> stream;  // shape the streamed body

  void Add(const Fault& fault);
  // What the recording reports: the HTTP fault if any, else the first one.
  std::optional<FaultKind> RecordedKind() const;
  bool Has(FaultKind kind) const;
};

}  // namespace tandem::model_server
