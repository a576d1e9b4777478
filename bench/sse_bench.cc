// SSE throughput: parsing plus event assembly of a realistic OpenAI stream,
// and the full decode (JSON + text/tool-call assembly) for both wire formats,
// Anthropic also for tool arguments streamed as input_json_delta.
// Bodies are fed in 1,448-byte pieces (one TCP segment's payload), the way
// they come off the socket.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "tandem/net/sse_parser.h"
#include "tandem/providers/anthropic_client.h"
#include "tandem/providers/anthropic_fast_event.h"
#include "tandem/providers/openai_client.h"

namespace {

using tandem::net::SseEvent;
using tandem::net::SseParser;

constexpr size_t kSegment = 1448;

const char* kWords[] = {" the", " function", " returns", " a", " value", ";", " fix", "ing", " it", " now", ".",
                        "\\n", " We", " should", " check", " `", "x", "`", " first"};

// ~`bytes` of a chat.completion.chunk stream: text deltas, then a tool call
// streamed in argument fragments, finish, usage, [DONE].
std::string OpenAIStream(size_t bytes) {
  std::string s;
  const std::string head =
      R"(data: {"id":"chatcmpl-9x8YzAbCdEfGhIjKlMnOpQrStUv","object":"chat.completion.chunk","created":1732000000,)"
      R"("model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{)";
  size_t i = 0;
  while (s.size() < bytes) {
    s += head + R"("content":")" + kWords[i++ % std::size(kWords)] + R"("},"logprobs":null,"finish_reason":null}],"usage":null})" +
         "\n\n";
    if (i % 200 == 0) {
      s += head + R"("tool_calls":[{"index":0,"id":"call_)" + std::to_string(i) +
           R"(","type":"function","function":{"name":"read_file","arguments":""}}]},"finish_reason":null}]})" "\n\n";
      s += head + R"("tool_calls":[{"index":0,"function":{"arguments":"{\"path\": \"src/a.py\"}"}}]},"finish_reason":null}]})" "\n\n";
    }
  }
  s += head + R"(},"finish_reason":"stop"}]})" "\n\n";
  s += R"(data: {"id":"c","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}})" "\n\n";
  s += "data: [DONE]\n\n";
  return s;
}

std::string AnthropicStream(size_t bytes) {
  std::string s =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\","
      "\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":100,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
      "{\"type\":\"text\",\"text\":\"\"}}\n\n";
  size_t i = 0;
  while (s.size() < bytes) {
    s += std::string("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                     "{\"type\":\"text_delta\",\"text\":\"") +
         kWords[i++ % std::size(kWords)] + "\"}}\n\n";
  }
  s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
       "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
       "\"usage\":{\"output_tokens\":500}}\n\n"
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return s;
}

// ~`bytes` of tool calls whose arguments stream as input_json_delta fragments
// (a write_file call's content, a few characters per event), a ping every
// 100 events.
std::string AnthropicToolStream(size_t bytes) {
  std::string s =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\","
      "\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":100,\"output_tokens\":1}}}\n\n";
  const char* fragments[] = {"def ", "f(x):", "\\\\n    ", "return", " x", " + 1", "\\\\n", "\\\\\\\"q\\\\\\\""};
  size_t i = 0;
  for (int block = 0; s.size() < bytes; ++block) {
    std::string index = std::to_string(block);
    s += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":" + index +
         ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_" + index +
         "\",\"name\":\"write_file\",\"input\":{}}}\n\n";
    auto delta = [&](const std::string& partial) {
      s += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":" + index +
           ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"" + partial + "\"}}\n\n";
      if (++i % 100 == 0) s += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    };
    delta("");
    delta("{\\\"path\\\": \\\"src/a.py\\\", \\\"content\\\": \\\"");
    for (int k = 0; k < 400; ++k) delta(fragments[k % std::size(fragments)]);
    delta("\\\"}");
    s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":" + index + "}\n\n";
  }
  s += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
       "\"usage\":{\"output_tokens\":500}}\n\n"
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  return s;
}

void FeedSegments(SseParser& parser, const std::string& body) {
  for (size_t pos = 0; pos < body.size(); pos += kSegment) parser.Feed(std::string_view(body).substr(pos, kSegment));
  parser.Finish();
}

// Parsing plus event assembly: the callback gets every complete event.
void BM_SseParseOpenAIStream(benchmark::State& state) {
  const std::string body = OpenAIStream(4 << 20);
  size_t events = 0, data_bytes = 0;
  SseParser parser([&](const SseEvent& e) {
    ++events;
    data_bytes += e.data.size();
  });
  for (auto _ : state) {
    FeedSegments(parser, body);
    benchmark::DoNotOptimize(data_bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["events/iter"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SseParseOpenAIStream)->Unit(benchmark::kMillisecond);

// The whole client-side decode: SSE + JSON + text and tool-call assembly.
template <typename Codec>
void DecodeLoop(benchmark::State& state, const Codec& codec, const std::string& body) {
  size_t deltas = 0, sse_events = 0;
  tandem::providers::EmitFn emit = [&](const tandem::protocol::StreamEvent&) { ++deltas; };
  for (auto _ : state) {
    auto decoder = codec.NewDecoder();
    SseParser parser([&](const SseEvent& e) {
      ++sse_events;
      if (decoder->OnEvent(e, emit)) state.SkipWithError("event refused");
    });
    FeedSegments(parser, body);
    auto r = decoder->Finish(emit);
    if (!r) state.SkipWithError("decode failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(deltas), benchmark::Counter::kIsRate);
  // Every SSE event handed to the decoder (1/this = decode cost per event).
  state.counters["sse_events/s"] = benchmark::Counter(static_cast<double>(sse_events), benchmark::Counter::kIsRate);
}

void BM_DecodeOpenAIStream(benchmark::State& state) {
  tandem::providers::ProviderSettings s;
  s.name = "bench";
  DecodeLoop(state, tandem::providers::OpenAICodec(s), OpenAIStream(1 << 20));
}
BENCHMARK(BM_DecodeOpenAIStream)->Unit(benchmark::kMillisecond);

void BM_DecodeAnthropicStream(benchmark::State& state) {
  tandem::providers::ProviderSettings s;
  s.name = "bench";
  DecodeLoop(state, tandem::providers::AnthropicCodec(s, {}), AnthropicStream(1 << 20));
}
BENCHMARK(BM_DecodeAnthropicStream)->Unit(benchmark::kMillisecond);

void BM_DecodeAnthropicToolStream(benchmark::State& state) {
  tandem::providers::ProviderSettings s;
  s.name = "bench";
  DecodeLoop(state, tandem::providers::AnthropicCodec(s, {}), AnthropicToolStream(1 << 20));
}
BENCHMARK(BM_DecodeAnthropicToolStream)->Unit(benchmark::kMillisecond);

// One typical content_block_delta per iteration straight into OnEvent (no
// SSE parsing): the decoder's own cost per event. Arg 0 = every event
// through nlohmann (the reference), 1 = the fast path. A fresh decoder (one
// open tool_use block) every 4,096 events keeps the arguments short.
void AnthropicEventLoop(benchmark::State& state, const std::string& data) {
  const SseEvent start{"content_block_start",
                       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})",
                       ""};
  const SseEvent event{"content_block_delta", data, ""};
  tandem::providers::EmitFn emit = [](const tandem::protocol::StreamEvent& e) { benchmark::DoNotOptimize(&e); };
  std::unique_ptr<tandem::providers::StreamDecoder> decoder;
  size_t n = 0;
  for (auto _ : state) {
    if (n++ % 4096 == 0) {
      decoder = tandem::providers::NewAnthropicStreamDecoder("bench", state.range(0) != 0);
      (void)decoder->OnEvent(start, emit);
    }
    if (decoder->OnEvent(event, emit)) state.SkipWithError("event refused");
  }
}

void BM_AnthropicTextDeltaEvent(benchmark::State& state) {
  AnthropicEventLoop(state,
                     R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" function"}})");
}
BENCHMARK(BM_AnthropicTextDeltaEvent)->Arg(0)->Arg(1);

void BM_AnthropicInputJsonDeltaEvent(benchmark::State& state) {
  AnthropicEventLoop(
      state, R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\n    return"}})");
}
BENCHMARK(BM_AnthropicInputJsonDeltaEvent)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
