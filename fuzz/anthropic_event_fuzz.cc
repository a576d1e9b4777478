// libFuzzer differential target: the Anthropic decoder's fast path for
// content_block_delta events (providers/anthropic_fast_event.h) against the
// full nlohmann::json parse.
//
// Input: one SSE event's data. Checked properties:
// - the decoder with the fast path and the decoder without it emit the same
//   events, fail with the same error and assemble the same reply, with the
//   data as a named content_block_delta and as an unnamed event (its "type"
//   decides), alone, and twice between open tool_use blocks 0 and 1 that it
//   may add arguments to;
// - text and argument fragments the scanner accepts are well-formed UTF-8.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/providers/anthropic_fast_event.h"

namespace {

using tandem::protocol::StreamEvent;
using Ev = std::pair<std::string_view, std::string_view>;  // SSE event name, data

std::string Transcript(const std::vector<Ev>& events, bool fast_path) {
  auto decoder = tandem::providers::NewAnthropicStreamDecoder("fuzz", fast_path);
  std::string out;
  tandem::providers::EmitFn emit = [&](const StreamEvent& e) {
    if (auto* t = std::get_if<tandem::protocol::TextDelta>(&e)) out += "text[" + t->text + "]";
    if (auto* c = std::get_if<tandem::protocol::ToolCallReady>(&e)) {
      out += "call[" + c->call.id + "|" + c->call.name + "|" + c->call.arguments_json + "]";
    }
    if (auto* u = std::get_if<tandem::protocol::UsageReport>(&e)) {
      out += "usage[" + std::to_string(u->usage.input_tokens) + "," + std::to_string(u->usage.output_tokens) + "," +
             std::to_string(u->usage.cached_input_tokens) + "," + std::to_string(u->usage.cache_write_tokens) + "]";
    }
  };
  auto error = [&](const tandem::protocol::ModelError& e) {
    return out + "error[" + std::to_string(static_cast<int>(e.kind)) + "," + std::to_string(e.http_status) + "," +
           e.message + "]";
  };
  for (const auto& [name, data] : events) {
    if (auto e = decoder->OnEvent(tandem::net::SseEvent{name, data, ""}, emit)) return error(*e);
  }
  auto r = decoder->Finish(emit);
  if (!r) return error(r.error());
  return out + "reply[" + r->model + "|" + r->text + "|" + std::to_string(r->tool_calls.size()) + "|" +
         std::to_string(static_cast<int>(r->stop_reason)) + "|" + std::to_string(r->saw_done) + "]";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  const Ev start = {"message_start",
                    R"({"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":9}}})"};
  const Ev tool0 = {"content_block_start",
                    R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t0","name":"f","input":{}}})"};
  const Ev tool1 = {"content_block_start",
                    R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"g","input":{}}})"};
  const Ev stop0 = {"content_block_stop", R"({"type":"content_block_stop","index":0})"};
  const Ev message_delta = {"message_delta",
                            R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}})"};
  const Ev message_stop = {"message_stop", R"({"type":"message_stop"})"};
  for (std::string_view name : {std::string_view("content_block_delta"), std::string_view()}) {
    const Ev ev = {name, payload};
    const std::vector<std::vector<Ev>> streams = {
        {ev, message_delta},
        {start, tool0, tool1, ev, ev, stop0, message_delta, message_stop},  // block 1 left open
    };
    for (const auto& stream : streams) {
      std::string fast = Transcript(stream, true);
      std::string full = Transcript(stream, false);
      if (fast != full) {
        tandem::fuzz::Fail("anthropic_event_fuzz", "fast path differs", fast + "\n--- full parse:\n" + full);
      }
    }
  }
  tandem::providers::BlockDelta delta;
  if (tandem::providers::ScanBlockDelta(payload, /*check_type=*/false, delta) &&
      (!tandem::fuzz::IsValidUtf8(delta.text) || !tandem::fuzz::IsValidUtf8(delta.partial_json))) {
    tandem::fuzz::Fail("anthropic_event_fuzz", "accepted text is not UTF-8", delta.text + "\n" + delta.partial_json);
  }
  return 0;
}
