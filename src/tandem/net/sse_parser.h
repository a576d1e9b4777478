// SseParser: an incremental Server-Sent Events parser (WHATWG HTML §9.2.6,
// with the leniencies of the OpenAI/Anthropic SDK decoders).
//
// Feed() takes the response body in arbitrary chunks; every complete event is
// passed to the callback. Chunk boundaries never matter: a line (and so a
// multi-byte UTF-8 character) split across reads is held back until its line
// ends, and bytes are only interpreted at event boundaries.
//
// Rules: lines end in LF, CRLF or CR (a CRLF split across two feeds counts
// once); lines starting with ':' are comments; "field: value" drops one space
// after the colon; several data lines are joined with '\n'; an event is
// dispatched on a blank line when it has data, an event name or an id (so
// "event: ping" alone is delivered with empty data, as the SDKs do); a UTF-8
// BOM at the very start is skipped. "[DONE]" is not special here.
//
// Cost: no allocation per byte or per line once buffers have grown; lines
// are found with memchr.
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tandem::net {

// One dispatched event. The views are valid only during the callback.
struct SseEvent {
  std::string_view event;  // "" when the event had no event: line
  std::string_view data;
  std::string_view id;     // last event id seen, "" if none
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  explicit SseParser(Callback on_event);

  // Consumes `bytes`, dispatching every event completed by them.
  void Feed(std::string_view bytes);

  // End of stream: an event whose lines all ended but which lacks its final
  // blank line is dispatched; a trailing unterminated line is dropped (it may
  // be cut mid-JSON). Feeding after Finish() starts a fresh stream.
  void Finish();

  // Total bytes fed so far.
  uint64_t bytes_fed() const { return bytes_fed_; }

 private:
  void ProcessLine(std::string_view line);
  void Dispatch();

  Callback on_event_;
  std::string partial_;     // bytes of an unterminated line from earlier feeds
  std::string data_;        // data lines of the current event, joined by '\n'
  std::string event_name_;
  std::string last_id_;
  bool has_data_ = false;
  bool has_event_fields_ = false;  // event: or id: seen in the current event
  bool skip_lf_ = false;           // previous feed ended in CR: a leading LF belongs to it
  bool at_stream_start_ = true;    // BOM check pending
  uint64_t bytes_fed_ = 0;
};

}  // namespace tandem::net
