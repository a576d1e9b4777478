#include "tandem/providers/anthropic_fast_event.h"

#include "tandem/providers/json_scan.h"

namespace tandem::providers {
namespace {

// One pass over the input; false on anything it does not accept, and the
// caller then gives up on the whole event.
class DeltaScanner : JsonScanner {
 public:
  using JsonScanner::JsonScanner;

  bool Event(bool check_type, BlockDelta& out) {
    out.index = 0;
    out.text.clear();
    out.partial_json.clear();
    bool saw_type = false, saw_index = false, saw_delta = false;
    bool ok = Object([&](std::string_view key) {
      if (key == "delta") return Once(saw_delta) && Delta(out);
      if (key == "index") return Once(saw_index) && SmallUint(out.index);
      if (key == "type" && check_type) return Once(saw_type) && Is("content_block_delta");
      return Value(1);
    });
    return ok && saw_delta && (saw_type || !check_type) && AtEnd();
  }

 private:
  bool Delta(BlockDelta& out) {
    bool saw_type = false, saw_text = false, saw_partial = false;
    bool ok = Object([&](std::string_view key) {
      if (key == "type") {
        std::string_view type;
        if (!Once(saw_type) || !RawString(type)) return false;
        out.is_text = type == "text_delta";
        return out.is_text || type == "input_json_delta";
      }
      if (key == "text") return Once(saw_text) && String(&out.text);
      if (key == "partial_json") return Once(saw_partial) && String(&out.partial_json);
      return Value(2);
    });
    return ok && saw_type;
  }

  bool Is(std::string_view expected) {
    std::string_view s;
    return RawString(s) && s == expected;
  }
};

}  // namespace

bool ScanBlockDelta(std::string_view data, bool check_type, BlockDelta& out) {
  return DeltaScanner(data).Event(check_type, out);
}

}  // namespace tandem::providers
