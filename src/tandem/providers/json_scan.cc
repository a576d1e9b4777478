#include "tandem/providers/json_scan.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

#include "tandem/base/strings.h"

namespace tandem::providers {

bool JsonScanner::Literal(std::string_view word) {
  SkipSpace();
  if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
    return false;
  p_ += word.size();
  return true;
}

bool JsonScanner::Value(int depth) {
  if (depth > kMaxDepth) return false;
  SkipSpace();
  if (p_ == end_) return false;
  switch (*p_) {
    case '"':
      return String(nullptr);
    case '{':
      return Object([&](std::string_view) { return Value(depth + 1); });
    case '[':
      ++p_;
      if (Consume(']')) return true;
      do {
        if (!Value(depth + 1)) return false;
      } while (Consume(','));
      return Consume(']');
    case 't':
      return Literal("true");
    case 'f':
      return Literal("false");
    case 'n':
      return Literal("null");
    default:
      return Number();
  }
}

bool JsonScanner::RawString(std::string_view& out) {
  const char* open = p_;
  bool escaped = false;
  if (!String(nullptr, &escaped) || escaped) return false;
  out = std::string_view(open + 1, static_cast<size_t>(p_ - 1 - (open + 1)));
  return true;
}

bool JsonScanner::SmallUint(int64_t& out) {
  SkipSpace();
  const char* start = p_;
  if (!Digits() || p_ - start > 18 || (*start == '0' && p_ - start > 1)) return false;
  if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
  out = 0;
  for (const char* d = start; d != p_; ++d) out = out * 10 + (*d - '0');
  return true;
}

bool JsonScanner::Digits() {
  const char* start = p_;
  while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  return p_ != start;
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and finite as a double:
// nlohmann rejects a number that overflows one ("1e999").
bool JsonScanner::Number() {
  const char* start = p_;
  if (p_ != end_ && *p_ == '-') ++p_;
  if (p_ == end_) return false;
  if (*p_ == '0') {
    ++p_;
  } else if (*p_ < '1' || *p_ > '9' || !Digits()) {
    return false;
  }
  if (p_ != end_ && *p_ == '.') {
    ++p_;
    if (!Digits()) return false;
  }
  bool exponent = false;
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    exponent = true;
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (!Digits()) return false;
  }
  if (!exponent && p_ - start <= 20) return true;  // |x| < 1e20
  // Out of range either way (overflow, or an underflow nlohmann would take)
  // is refused: the full parse decides.
  double value;
  auto [end, ec] = std::from_chars(start, p_, value);
  return ec == std::errc() && end == p_ && std::isfinite(value);
}

bool JsonScanner::Hex4(uint32_t& v) {
  if (end_ - p_ < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = *p_++;
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    v = v << 4 | d;
  }
  return true;
}

// One UTF-8 sequence as RFC 3629 allows it (no overlongs, no surrogates,
// nothing past U+10FFFF): the check nlohmann's lexer makes.
bool JsonScanner::Utf8Sequence() {
  auto in = [&](unsigned char lo, unsigned char hi) {
    if (p_ == end_) return false;
    auto c = static_cast<unsigned char>(*p_);
    if (c < lo || c > hi) return false;
    ++p_;
    return true;
  };
  auto lead = static_cast<unsigned char>(*p_++);
  if (lead >= 0xC2 && lead <= 0xDF) return in(0x80, 0xBF);
  if (lead == 0xE0) return in(0xA0, 0xBF) && in(0x80, 0xBF);
  if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF)
    return in(0x80, 0xBF) && in(0x80, 0xBF);
  if (lead == 0xED) return in(0x80, 0x9F) && in(0x80, 0xBF);
  if (lead == 0xF0) return in(0x90, 0xBF) && in(0x80, 0xBF) && in(0x80, 0xBF);
  if (lead >= 0xF1 && lead <= 0xF3) return in(0x80, 0xBF) && in(0x80, 0xBF) && in(0x80, 0xBF);
  if (lead == 0xF4) return in(0x80, 0x8F) && in(0x80, 0xBF) && in(0x80, 0xBF);
  return false;
}

// A string at p_; its unescaped value replaces *out when out is set.
bool JsonScanner::String(std::string* out, bool* escaped) {
  if (p_ == end_ || *p_ != '"') return false;
  ++p_;
  if (out != nullptr) out->clear();
  for (;;) {
    const char* run = p_;
    while (p_ != end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++p_;
    }
    if (p_ == end_) return false;
    auto c = static_cast<unsigned char>(*p_);
    if (c >= 0x80) {
      if (!Utf8Sequence()) return false;
      if (out != nullptr) out->append(run, p_);
      continue;
    }
    if (out != nullptr) out->append(run, p_);
    if (c == '"') {
      ++p_;
      return true;
    }
    if (c < 0x20 || ++p_ == end_)
      return false;  // a raw control character, or input ends after '\'
    if (escaped != nullptr) *escaped = true;
    char decoded;
    switch (*p_++) {
      case '"':
        decoded = '"';
        break;
      case '\\':
        decoded = '\\';
        break;
      case '/':
        decoded = '/';
        break;
      case 'b':
        decoded = '\b';
        break;
      case 'f':
        decoded = '\f';
        break;
      case 'n':
        decoded = '\n';
        break;
      case 'r':
        decoded = '\r';
        break;
      case 't':
        decoded = '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
          p_ += 2;
          if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out != nullptr) AppendUtf8(*out, cp);
        continue;
      }
      default:
        return false;
    }
    if (out != nullptr) *out += decoded;
  }
}

}  // namespace tandem::providers
