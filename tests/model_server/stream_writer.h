// Writes one streamed response on the token schedule, applying stream faults.
//
// Schedule: the preamble at start + ttft, then step i at start + ttft +
// i / tokens_per_second (absolute, so slow writes do not accumulate drift;
// a stall shifts the rest of the schedule by its length). A writer that wakes
// up late sends every step already due in one write (each its own SSE event,
// a batch never crossing a fault), so the rate holds on a loaded machine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/model_server/faults.h"
#include "tests/model_server/reply.h"
#include "tests/model_server/stop_signal.h"
#include "tests/model_server/wire_format.h"

namespace tandem::model_server {

struct StreamPlan {
  std::unique_ptr<StreamEncoder> encoder;
  Reply reply;
  std::vector<StreamStep> steps;
  Usage usage;                // output_tokens is filled in while streaming
  std::vector<Fault> faults;  // stream faults only
  StopSignal::Clock::time_point start;
  int ttft_ms = 0;
  int tokens_per_second = 0;  // <= 0: no pacing
};

enum class StreamEnd {
  kComplete,  // finished normally, or cleanly cut (truncate, error_event)
  kAbort,     // reset fault, client gone or server stopping: drop the connection
};

// `write` sends bytes to the client and returns false when it cannot.
StreamEnd WriteStream(StreamPlan& plan, StopSignal& stop,
                      const std::function<bool(const std::string&)>& write);

// Time the whole reply takes (ttft + all steps + stalls), for stream:false.
StopSignal::Clock::duration ReplyDuration(const StreamPlan& plan);

}  // namespace tandem::model_server
