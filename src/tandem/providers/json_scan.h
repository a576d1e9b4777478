// A strict one-pass JSON scanner for the stream decoders' fast paths
// (openai_fast_chunk.h, anthropic_fast_event.h): it walks one JSON text
// without building a DOM, unescapes the strings a fast path needs and
// validates (and skips) everything else.
//
// Contract: whatever it accepts, nlohmann::json::parse accepts too, and the
// strings it unescapes equal nlohmann's. So every method returns false on
// anything it is not sure of (its caller then gives up and parses fully):
// invalid JSON (RFC 8259, UTF-8 by RFC 3629, paired surrogate escapes),
// numbers nlohmann would reject as overflowing a double, nesting deeper
// than kMaxDepth, and keys written with escapes (they could spell a key that
// matters). A byte order mark, which nlohmann skips, is refused too.
// Not thread-safe; one per input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace tandem::providers {

class JsonScanner {
 public:
  // Deeper values are left to nlohmann (which has no such limit).
  static constexpr int kMaxDepth = 64;

  explicit JsonScanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  // Marks a key as seen; false when it already was (a duplicate key).
  static bool Once(bool& seen) { return !std::exchange(seen, true); }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // Only whitespace is left.
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }
  // The next non-space character is `c` (not consumed).
  bool Peek(char c) {
    SkipSpace();
    return p_ != end_ && *p_ == c;
  }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++p_;
    return true;
  }
  // The exact word (true, false, null, or a fixed number such as 0).
  bool Literal(std::string_view word);

  // An object; `member(key)` must read each member's value (and return
  // false to give up). Keys with escapes are refused.
  template <typename Member>
  bool Object(Member&& member) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    do {
      SkipSpace();
      std::string_view key;
      if (!RawString(key) || !Consume(':')) return false;
      SkipSpace();
      if (!member(key)) return false;
    } while (Consume(','));
    return Consume('}');
  }

  // Validates and skips any value; `depth` is the nesting level it sits at.
  bool Value(int depth);

  // A string; its unescaped value replaces *out when out is set, and
  // *escaped is set when it had an escape sequence.
  bool String(std::string* out, bool* escaped = nullptr);

  // A string without escape sequences; `out` views its bytes in the input.
  bool RawString(std::string_view& out);

  // A non-negative integer of at most 18 digits (fits int64_t, and
  // nlohmann reads it as an integer).
  bool SmallUint(int64_t& out);

 private:
  bool Number();
  bool Digits();
  bool Hex4(uint32_t& v);
  bool Utf8Sequence();

  const char* p_;
  const char* end_;
};

}  // namespace tandem::providers
