// libFuzzer target: the SSE parser and both wire formats' stream decoders
// (text and tool-call assembly, usage, error events).
//
// Input: byte 0 picks the decoder (even: OpenAI, odd: Anthropic), byte 1
// seeds the chunk sizes, the rest is the response body. Checked properties:
// - chunking never changes the parsed events (whole feed vs. chunked feed);
// - decoding never crashes or throws, and a successful reply only holds tool
//   calls whose arguments are JSON objects and whose text equals the deltas.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/net/sse_parser.h"
#include "tandem/providers/anthropic_client.h"
#include "tandem/providers/openai_client.h"

namespace {

using tandem::net::SseEvent;
using tandem::net::SseParser;

struct Event {
  std::string event, data, id;
  bool operator==(const Event& o) const { return event == o.event && data == o.data && id == o.id; }
};

std::vector<Event> ParseAll(std::string_view body, uint8_t seed, bool chunked) {
  std::vector<Event> out;
  SseParser parser([&](const SseEvent& e) {
    out.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
  });
  if (!chunked) {
    parser.Feed(body);
  } else {
    size_t pos = 0;
    uint32_t state = seed * 2654435761u + 1;
    while (pos < body.size()) {
      state = state * 1103515245u + 12345u;
      size_t n = 1 + (state >> 16) % 17;
      parser.Feed(body.substr(pos, n));
      pos += n;
    }
  }
  parser.Finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool anthropic = (data[0] & 1) != 0;
  const uint8_t seed = data[1];
  std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<Event> whole = ParseAll(body, seed, false);
  std::vector<Event> chunked = ParseAll(body, seed, true);
  if (!(whole == chunked)) std::abort();  // chunk boundaries changed the events

  tandem::providers::ProviderSettings settings;
  settings.name = "fuzz";
  std::unique_ptr<tandem::providers::WireCodec> codec;
  if (anthropic) {
    codec = std::make_unique<tandem::providers::AnthropicCodec>(settings, tandem::providers::ModelOptions{});
  } else {
    codec = std::make_unique<tandem::providers::OpenAICodec>(settings);
  }
  auto decoder = codec->NewDecoder();
  std::string streamed_text;
  size_t ready_calls = 0;
  tandem::providers::EmitFn emit = [&](const tandem::protocol::StreamEvent& e) {
    if (auto* t = std::get_if<tandem::protocol::TextDelta>(&e)) streamed_text += t->text;
    if (std::holds_alternative<tandem::protocol::ToolCallReady>(e)) ++ready_calls;
  };
  for (const Event& e : whole) {
    if (decoder->OnEvent(SseEvent{e.event, e.data, e.id}, emit)) return 0;  // attempt failed: fine
  }
  auto result = decoder->Finish(emit);
  if (!result) return 0;
  if (result->text != streamed_text) std::abort();
  if (result->tool_calls.size() != ready_calls) std::abort();
  for (const auto& call : result->tool_calls) {
    if (!call.arguments.is_object() || call.name.empty()) std::abort();
  }
  return 0;
}
