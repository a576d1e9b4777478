#include "tests/model_server/tokenizer.h"

#include <cctype>

namespace tandem::model_server {
namespace {

constexpr size_t kMaxTokenBytes = 8;

enum class CharClass { kSpace, kWord, kPunct };

CharClass Classify(unsigned char c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
    return CharClass::kSpace;
  }
  // Bytes >= 0x80 belong to multi-byte UTF-8 characters: treat them as letters.
  if (c >= 0x80 || std::isalnum(c) || c == '_') return CharClass::kWord;
  return CharClass::kPunct;
}

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Returns the end of the run of `cls` starting at `pos`, cut at `limit` bytes
// from `start` but never inside a UTF-8 sequence.
size_t RunEnd(std::string_view text, size_t start, size_t pos, CharClass cls) {
  size_t end = pos;
  while (end < text.size() && Classify(static_cast<unsigned char>(text[end])) == cls) {
    if (end - start >= kMaxTokenBytes &&
        !IsContinuationByte(static_cast<unsigned char>(text[end]))) {
      break;
    }
    ++end;
  }
  return end;
}

}  // namespace

std::vector<std::string> SplitTokens(std::string_view text) {
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    CharClass cls = Classify(static_cast<unsigned char>(text[pos]));
    if (cls == CharClass::kSpace) {
      bool single_space = text[pos] == ' ' && pos + 1 < text.size() &&
                          Classify(static_cast<unsigned char>(text[pos + 1])) != CharClass::kSpace;
      if (single_space) {
        // A word (or punctuation run) keeps its leading space.
        ++pos;
        cls = Classify(static_cast<unsigned char>(text[pos]));
      }
    }
    size_t end = RunEnd(text, start, pos, cls);
    if (end == pos) end = pos + 1;  // defensive: always make progress
    tokens.emplace_back(text.substr(start, end - start));
    pos = end;
  }
  return tokens;
}

int EstimateTokens(size_t bytes) { return static_cast<int>((bytes + 3) / 4); }

}  // namespace tandem::model_server
