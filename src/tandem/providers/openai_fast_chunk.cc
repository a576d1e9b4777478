#include "tandem/providers/openai_fast_chunk.h"

#include "tandem/providers/json_scan.h"

namespace tandem::providers {
namespace {

// One pass over the input; every method returns false on anything it does
// not accept, and the caller then gives up on the whole chunk.
class ChunkScanner : JsonScanner {
 public:
  using JsonScanner::JsonScanner;

  bool Chunk(PlainContentChunk& out) {
    out.content.clear();
    out.has_model = false;
    bool saw_choices = false, saw_model = false, saw_usage = false;
    bool ok = Object([&](std::string_view key) {
      if (key == "choices") return Once(saw_choices) && Choices(out);
      if (key == "model") {
        if (!Once(saw_model)) return false;
        if (!Peek('"')) return Value(1);
        out.has_model = true;
        return String(&out.model);
      }
      if (key == "usage") return Once(saw_usage) && Literal("null");
      if (key == "error" || key == "x_groq") return false;
      return Value(1);
    });
    return ok && saw_choices && AtEnd();
  }

  bool Choices(PlainContentChunk& out) {
    if (!Consume('[')) return false;
    bool saw_index = false, saw_delta = false, saw_finish = false;
    bool ok = Object([&](std::string_view key) {
      if (key == "index") return Once(saw_index) && Literal("0");
      if (key == "delta") return Once(saw_delta) && Delta(out);
      if (key == "finish_reason") return Once(saw_finish) && Literal("null");
      return Value(2);
    });
    return ok && saw_delta && Consume(']');
  }

  bool Delta(PlainContentChunk& out) {
    bool saw_content = false;
    return Object([&](std::string_view key) {
      if (key == "content") {
        if (!Once(saw_content)) return false;
        return Peek('"') ? String(&out.content) : Literal("null");
      }
      if (key == "tool_calls") return false;
      return Value(3);
    });
  }
};

}  // namespace

bool ScanPlainContentChunk(std::string_view data, PlainContentChunk& out) {
  return ChunkScanner(data).Chunk(out);
}

}  // namespace tandem::providers
