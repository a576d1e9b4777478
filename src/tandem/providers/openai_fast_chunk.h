// Fast path for the commonest OpenAI stream chunk: one choice whose delta
// carries only text, e.g.
//   {"id":..,"object":"chat.completion.chunk","model":..,
//    "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}
// A strict one-pass scanner recognizes exactly this shape without building a
// JSON DOM (nlohmann::json costs ~3 µs per one-token chunk). Anything it is
// not sure about is refused, and the decoder then parses the chunk fully, so
// the fast path must never change what the decoder emits: the differential
// test (openai_fast_chunk_test.cc) and fuzzer (fuzz/openai_chunk_fuzz.cc)
// check exactly that.
//
// Accepted (anything else -> false):
// - the whole input is one JSON object (surrounding JSON whitespace allowed),
//   syntactically valid by RFC 8259 incl. UTF-8 and surrogate escapes;
// - top level: "choices" once, an array of exactly one object; "usage"
//   absent or null; no "error" and no "x_groq"; "model" at most once;
// - the choice: "index" absent or the literal 0; "delta" once, an object;
//   "finish_reason" absent or null;
// - the delta: "content" at most once, a string or null; no "tool_calls";
// - every key that matters is written without escapes; other keys and their
//   values are validated and skipped.
// Thread-safe (no state).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

struct PlainContentChunk {
  std::string content;     // unescaped UTF-8; empty when absent, null or ""
  std::string model;       // unescaped top-level "model" when has_model
  bool has_model = false;  // "model" was a string
};

// True when `data` is a plain content chunk (see above); `out` is then
// filled. False means "parse it fully"; `out` is then unspecified. Reuses
// `out`'s buffers, so keep one per stream.
bool ScanPlainContentChunk(std::string_view data, PlainContentChunk& out);

// The OpenAI stream decoder (defined in openai_client.cc; OpenAICodec hands
// out the fast one). With `fast_path` false every chunk goes through
// nlohmann::json: the reference the fast path is tested against.
std::unique_ptr<StreamDecoder> NewOpenAIStreamDecoder(std::string provider, bool fast_path);

}  // namespace tandem::providers
