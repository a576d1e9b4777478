// libFuzzer differential target: the OpenAI decoder's fast path for plain
// content chunks (providers/openai_fast_chunk.h) against the full
// nlohmann::json parse.
//
// Input: one SSE event's data (a chunk). Checked properties:
// - the decoder with the fast path and the decoder without it emit the same
//   events, fail with the same error and assemble the same reply, for the
//   chunk alone, inside a stream (after a chunk that set the model, twice,
//   before the finish) and as an `event: error` event;
// - text the scanner accepts is well-formed UTF-8.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/providers/openai_fast_chunk.h"

namespace {

using tandem::protocol::StreamEvent;

std::string Transcript(const std::vector<std::string_view>& events, bool fast_path,
                       std::string_view event_name) {
  auto decoder = tandem::providers::NewOpenAIStreamDecoder("fuzz", fast_path);
  std::string out;
  tandem::providers::EmitFn emit = [&](const StreamEvent& e) {
    if (auto* t = std::get_if<tandem::protocol::TextDelta>(&e)) out += "text[" + t->text + "]";
    if (auto* c = std::get_if<tandem::protocol::ToolCallReady>(&e)) {
      out += "call[" + c->call.id + "|" + c->call.name + "|" + c->call.arguments_json + "]";
    }
    if (auto* u = std::get_if<tandem::protocol::UsageReport>(&e)) {
      out += "usage[" + std::to_string(u->usage.input_tokens) + "," +
             std::to_string(u->usage.output_tokens) + "," +
             std::to_string(u->usage.cached_input_tokens) + "," +
             std::to_string(u->usage.cache_write_tokens) + "]";
    }
  };
  auto error = [&](const tandem::protocol::ModelError& e) {
    return out + "error[" + std::to_string(static_cast<int>(e.kind)) + "," +
           std::to_string(e.http_status) + "," + e.message + "]";
  };
  for (std::string_view data : events) {
    if (auto e = decoder->OnEvent(tandem::net::SseEvent{event_name, data, ""}, emit))
      return error(*e);
  }
  auto r = decoder->Finish(emit);
  if (!r) return error(r.error());
  return out + "reply[" + r->model + "|" + r->text + "|" + std::to_string(r->tool_calls.size()) +
         "|" + std::to_string(static_cast<int>(r->stop_reason)) + "|" +
         std::to_string(r->saw_done) + "]";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view chunk(reinterpret_cast<const char*>(data), size);
  const std::string_view first =
      R"({"model":"first","choices":[{"delta":{"role":"assistant","content":""}}]})";
  const std::string_view finish = R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";
  const std::vector<std::vector<std::string_view>> streams = {
      {chunk}, {chunk, finish}, {first, chunk, chunk, finish, "[DONE]"}};
  for (const auto& stream : streams) {
    for (std::string_view event_name : {std::string_view(), std::string_view("error")}) {
      std::string fast = Transcript(stream, true, event_name);
      std::string full = Transcript(stream, false, event_name);
      if (fast != full)
        tandem::fuzz::Fail("openai_chunk_fuzz", "fast path differs",
                           fast + "\n--- full parse:\n" + full);
    }
  }
  tandem::providers::PlainContentChunk plain;
  if (tandem::providers::ScanPlainContentChunk(chunk, plain) &&
      !tandem::fuzz::IsValidUtf8(plain.content)) {
    tandem::fuzz::Fail("openai_chunk_fuzz", "accepted text is not UTF-8", plain.content);
  }
  return 0;
}
