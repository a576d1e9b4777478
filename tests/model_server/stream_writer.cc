#include "tests/model_server/stream_writer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace tandem::model_server {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr int kKeepAliveEverySteps = 64;

// When step `i` is due, from the first step (exact: no per-step rounding
// that would add up over a long reply).
std::chrono::nanoseconds StepOffset(size_t i, int tokens_per_second) {
  if (tokens_per_second <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(i) * 1'000'000'000 / tokens_per_second);
}

// True when some fault fires once `sent` tokens are out (see ApplyFaults):
// a batch of due steps must end there.
bool FaultAt(const StreamPlan& plan, size_t sent) {
  for (const Fault& fault : plan.faults) {
    if (std::min(static_cast<size_t>(fault.after_tokens), plan.steps.size()) == sent) return true;
  }
  return false;
}

enum class FaultAction { kContinue, kAbort, kEnd };

// Applies the faults that fire once `sent` tokens are out. A fault whose
// after_tokens exceeds the reply fires at its end.
FaultAction ApplyFaults(StreamPlan& plan, size_t sent, StopSignal& stop, microseconds& shift,
                        const std::function<bool(const std::string&)>& write) {
  auto fires = [&](const Fault& fault) {
    size_t at = std::min(static_cast<size_t>(fault.after_tokens), plan.steps.size());
    return at == sent;
  };
  for (const Fault& fault : plan.faults) {
    if (fault.kind == FaultKind::kStall && fires(fault)) {
      shift += milliseconds(fault.stall_ms);
      if (!stop.SleepUntil(StopSignal::Clock::now() + milliseconds(fault.stall_ms))) {
        return FaultAction::kAbort;
      }
    }
  }
  for (const Fault& fault : plan.faults) {
    if (!fires(fault)) continue;
    switch (fault.kind) {
      case FaultKind::kReset:
        return FaultAction::kAbort;
      case FaultKind::kTruncate:
        return FaultAction::kEnd;
      case FaultKind::kErrorEvent:
        return write(plan.encoder->ErrorEvent()) ? FaultAction::kEnd : FaultAction::kAbort;
      default:
        break;
    }
  }
  return FaultAction::kContinue;
}

}  // namespace

StreamEnd WriteStream(StreamPlan& plan, StopSignal& stop,
                      const std::function<bool(const std::string&)>& write) {
  const auto first = plan.start + milliseconds(plan.ttft_ms);
  microseconds shift(0);
  auto due = [&](size_t i) { return first + shift + StepOffset(i, plan.tokens_per_second); };
  if (!stop.SleepUntil(first)) return StreamEnd::kAbort;
  plan.usage.output_tokens = 0;
  if (!write(plan.encoder->Start(plan.usage))) return StreamEnd::kAbort;
  std::string out;
  for (size_t i = 0;;) {
    switch (ApplyFaults(plan, i, stop, shift, write)) {
      case FaultAction::kAbort:
        return StreamEnd::kAbort;
      case FaultAction::kEnd:
        return StreamEnd::kComplete;
      case FaultAction::kContinue:
        break;
    }
    if (i == plan.steps.size()) break;
    if (!stop.SleepUntil(due(i))) return StreamEnd::kAbort;
    // Behind schedule (a late wake-up, a busy machine): every step already
    // due goes out in this one write, each still its own SSE event, so the
    // rate holds without a write per token.
    const auto now = StopSignal::Clock::now();
    out.clear();
    do {
      out += plan.encoder->Step(plan.steps[i], plan.reply);
      ++plan.usage.output_tokens;
      if (++i % kKeepAliveEverySteps == 0) out += plan.encoder->KeepAlive();
    } while (i < plan.steps.size() && due(i) <= now && !FaultAt(plan, i));
    if (!write(out)) return StreamEnd::kAbort;
  }
  return write(plan.encoder->Finish(plan.reply, plan.usage)) ? StreamEnd::kComplete
                                                             : StreamEnd::kAbort;
}

StopSignal::Clock::duration ReplyDuration(const StreamPlan& plan) {
  StopSignal::Clock::duration total =
      milliseconds(plan.ttft_ms) + StepOffset(plan.steps.size(), plan.tokens_per_second);
  for (const Fault& fault : plan.faults) {
    if (fault.kind == FaultKind::kStall) total += milliseconds(fault.stall_ms);
  }
  return total;
}

}  // namespace tandem::model_server
