// Front ends for the event stream: a terminal view a person can follow live,
// and JSONL (--json) for CI. Both are EventSinks; neither is used by the core.
#pragma once

#include <cstdio>
#include <mutex>

#include "tandem/protocol/event.h"

namespace tandem::cli {

// Human view: streamed model text (dim), one line per tool, gate and
// rollback, and a summary block at the end. Colors only on a TTY.
class TerminalRenderer : public protocol::EventSink {
 public:
  explicit TerminalRenderer(std::FILE* out, bool color);
  void Publish(const protocol::Event& event) override;

 private:
  void EndTextLine();
  std::FILE* out_;
  bool color_;
  std::mutex mu_;
  bool in_text_ = false;  // a streamed text line is open
  bool tool_open_ = false;  // a tool line waits for its result
};

// One JSON object per line per event (docs/EVENTS.md); model text deltas are
// included so a consumer can reconstruct the stream.
class JsonlRenderer : public protocol::EventSink {
 public:
  explicit JsonlRenderer(std::FILE* out) : out_(out) {}
  void Publish(const protocol::Event& event) override;

 private:
  std::FILE* out_;
  std::mutex mu_;
};

// Publishes to several sinks in order.
class FanOutSink : public protocol::EventSink {
 public:
  void Add(protocol::EventSink* sink) { sinks_.push_back(sink); }
  void Publish(const protocol::Event& event) override {
    for (protocol::EventSink* s : sinks_) s->Publish(event);
  }

 private:
  std::vector<protocol::EventSink*> sinks_;
};

// "12.3 s", "850 ms"
std::string FormatDuration(double ms);
// "$0.0042"
std::string FormatCost(double usd);
// " · 812 tok/s", or "" for a reply too short to have a speed (0; see
// base/token_rate.h).
std::string FormatSpeed(double tokens_per_s);

}  // namespace tandem::cli
