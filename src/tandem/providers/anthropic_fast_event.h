// Fast path for the commonest Anthropic stream events: a content block's
// text or tool-input fragment,
//   event: content_block_delta
//   data: {"type":"content_block_delta","index":0,
//          "delta":{"type":"text_delta","text":"Hi"}}
//   (or "delta":{"type":"input_json_delta","partial_json":"{\"pa"})
// A strict one-pass scanner (json_scan.h) recognizes exactly this shape
// without building a JSON DOM (nlohmann::json costs ~1-2 µs per event).
// Anything it is not sure about is refused and the decoder parses the event
// fully, so the fast path must never change what the decoder emits: the
// differential test (anthropic_fast_event_test.cc) and fuzzer
// (fuzz/anthropic_event_fuzz.cc) check exactly that. (`event: ping` never
// reaches a parser at all.)
//
// Accepted (anything else -> false):
// - the whole data is one JSON object (surrounding whitespace allowed), valid
//   as json_scan.h defines it;
// - top level: "delta" once, an object; "index" absent (block 0) or once, a
//   non-negative integer of at most 18 digits; when `check_type` (the SSE
//   event had no name), "type" once, exactly "content_block_delta";
// - the delta: "type" once, exactly "text_delta" or "input_json_delta";
//   "text" and "partial_json" each at most once, a string;
// - keys and type values that matter are written without escapes; other
//   keys and their values are validated and skipped.
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tandem/providers/wire_codec.h"

namespace tandem::providers {

struct BlockDelta {
  bool is_text = false;      // text_delta; else input_json_delta
  int64_t index = 0;         // the content block
  std::string text;          // unescaped "text"; empty when absent
  std::string partial_json;  // unescaped "partial_json"; empty when absent
};

// True when `data` is such a content_block_delta (see above); `out` is then
// filled. False means "parse it fully"; `out` is then unspecified. Reuses
// `out`'s buffers, so keep one per stream.
bool ScanBlockDelta(std::string_view data, bool check_type, BlockDelta& out);

// The Anthropic stream decoder (defined in anthropic_client.cc;
// AnthropicCodec hands out the fast one). With `fast_path` false every event
// goes through nlohmann::json: the reference the fast path is tested against.
std::unique_ptr<StreamDecoder> NewAnthropicStreamDecoder(std::string provider, bool fast_path);

}  // namespace tandem::providers
