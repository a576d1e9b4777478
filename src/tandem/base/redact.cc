#include "tandem/base/redact.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/base/mutex.h"

namespace tandem {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

// ---- the registered secrets, as raw bytes and as encodings -----------------

enum class Encoding : uint8_t { kRaw, kBase64, kHex };

struct Pattern {
  std::string bytes;
  Encoding encoding;
};

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '-' || c == '_';
}

bool IsHexChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The characters of base64(`k` unknown bytes + secret + unknown bytes) that
// depend on the secret's bytes alone, for k = 0, 1, 2: wherever the secret
// sits in an encoded stream, one of the three appears in it. Standard and
// URL-safe alphabets, each once.
void AddBase64Fragments(std::string_view secret, std::vector<Pattern>& out) {
  for (size_t k = 0; k < 3; ++k) {
    std::string bytes(k, '\0');
    bytes.append(secret);
    auto bit = [&](size_t i) { return (static_cast<uint8_t>(bytes[i / 8]) >> (7 - i % 8)) & 1; };
    const size_t first = (8 * k + 5) / 6;               // first char past the unknown prefix
    const size_t end = 8 * (k + secret.size()) / 6;     // chars wholly inside the secret
    std::string standard;
    for (size_t c = first; c < end; ++c) {
      int v = 0;
      for (size_t b = 6 * c; b < 6 * c + 6; ++b) v = (v << 1) | bit(b);
      standard += kBase64Alphabet[v];
    }
    std::string url = standard;
    std::replace(url.begin(), url.end(), '+', '-');
    std::replace(url.begin(), url.end(), '/', '_');
    out.push_back({standard, Encoding::kBase64});
    if (url != standard) out.push_back({url, Encoding::kBase64});
  }
}

void AddHex(std::string_view secret, std::vector<Pattern>& out) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string lower, upper;
  for (char ch : secret) {
    auto c = static_cast<uint8_t>(ch);
    lower += kLower[c >> 4];
    lower += kLower[c & 15];
    upper += kUpper[c >> 4];
    upper += kUpper[c & 15];
  }
  out.push_back({lower, Encoding::kHex});
  if (upper != lower) out.push_back({upper, Encoding::kHex});
}

// A span of the text to replace by kRedacted.
struct Span {
  size_t begin;
  size_t end;
};

// Every pattern of the registered secrets, indexed by its first 8 bytes
// (every pattern has at least 8: secrets do, and their encodings are
// longer). Find looks at each position once: a 64 Ki-bit filter on a hash
// of the 8 bytes there rules out nearly every position with one load, so
// the cost follows the text's length, not the number of secrets. Immutable
// once built; shared by every Apply through a shared_ptr.
class SecretIndex {
 public:
  explicit SecretIndex(const std::vector<std::string>& secrets) {
    for (const std::string& secret : secrets) {
      patterns_.push_back({secret, Encoding::kRaw});
      AddBase64Fragments(secret, patterns_);
      AddHex(secret, patterns_);
    }
    // Longest first, so the first match at a position is the longest.
    std::stable_sort(patterns_.begin(), patterns_.end(),
                     [](const Pattern& a, const Pattern& b) { return a.bytes.size() > b.bytes.size(); });
    for (uint32_t i = 0; i < patterns_.size(); ++i) {
      const uint64_t key = Key(patterns_[i].bytes.data());
      filter_[Slot(key) / 64] |= uint64_t{1} << (Slot(key) % 64);
      by_key_[key].push_back(i);
    }
  }

  // Appends the spans of `text` that hold a pattern (only the encoded ones
  // when `encoded_only`). A raw secret's span is its bytes; an encoded one
  // widens to the whole word of its alphabet around it (base64 with its '='
  // padding; hex digits), so no part of the encoding stays readable.
  void Find(std::string_view text, bool encoded_only, std::vector<Span>& spans) const {
    if (text.size() < 8) return;
    size_t widened_to = 0;  // an encoded hit inside this is already covered
    for (size_t i = 0; i + 8 <= text.size(); ++i) {
      const uint64_t key = Key(text.data() + i);
      const uint32_t slot = Slot(key);
      if (!(filter_[slot / 64] >> (slot % 64) & 1)) continue;
      auto candidates = by_key_.find(key);
      if (candidates == by_key_.end()) continue;
      for (uint32_t p : candidates->second) {
        const Pattern& pattern = patterns_[p];
        if (encoded_only && pattern.encoding == Encoding::kRaw) continue;
        if (text.size() - i < pattern.bytes.size() ||
            std::memcmp(text.data() + i, pattern.bytes.data(), pattern.bytes.size()) != 0) {
          continue;
        }
        Span span{i, i + pattern.bytes.size()};
        if (pattern.encoding != Encoding::kRaw) {
          if (i < widened_to) continue;  // this word is covered already
          auto in_word = pattern.encoding == Encoding::kHex ? IsHexChar : IsBase64Char;
          while (span.begin > 0 && in_word(text[span.begin - 1])) --span.begin;
          while (span.end < text.size() && in_word(text[span.end])) ++span.end;
          if (pattern.encoding == Encoding::kBase64) {
            while (span.end < text.size() && text[span.end] == '=') ++span.end;
          }
          widened_to = span.end;
        }
        spans.push_back(span);
        break;  // the longest pattern here
      }
    }
  }

 private:
  static uint64_t Key(const char* p) {
    uint64_t key;
    std::memcpy(&key, p, sizeof key);
    return key;
  }
  static uint32_t Slot(uint64_t key) {
    return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 48);
  }

  std::vector<Pattern> patterns_;
  std::array<uint64_t, 1024> filter_{};  // 65536 bits
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_key_;
};

// Encoded secrets that tools wrap over several lines (`base64` at 76
// columns, `openssl base64` at 64, `xxd -p` at 60): a run of at least 16
// base64 characters that ends a line continues on the next line when that
// starts with one. Each such block is searched with its line breaks taken
// out, and a hit covers the whole block.
void FindWrapped(std::string_view text, const SecretIndex& index, std::vector<Span>& spans) {
  std::string joined;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsBase64Char(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    bool wrapped = false;
    joined.clear();
    for (;;) {
      const size_t run = i;
      while (i < text.size() && (IsBase64Char(text[i]) || text[i] == '=')) ++i;
      joined.append(text.substr(run, i - run));
      size_t next = i;
      if (next < text.size() && text[next] == '\r') ++next;
      if (i - run < 16 || next >= text.size() || text[next] != '\n' || next + 1 >= text.size() ||
          !IsBase64Char(text[next + 1])) {
        break;
      }
      i = next + 1;
      wrapped = true;
    }
    if (!wrapped) continue;
    std::vector<Span> found;
    index.Find(joined, /*encoded_only=*/true, found);
    if (!found.empty()) spans.push_back({start, i});
  }
}

struct Registry {
  Mutex mu;
  std::vector<std::string> secrets GUARDED_BY(mu);
  std::shared_ptr<const SecretIndex> index GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;  // never destroyed: used until exit
  return *registry;
}

// ---- key shapes and URL credentials ---------------------------------------

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Replaces tokens that start with a known key prefix and continue with at
// least 16 key characters. Only a byte that can start a prefix, at the start
// of a word, is compared; the text between matches is copied in runs.
std::string RedactKeyShapes(std::string_view text) {
  static constexpr std::string_view kPrefixes[] = {
      "sk-",   "gsk_",  "csk-",  "xai-",  "ghp_",  "gho_",  "ghu_",  "ghs_",  "ghr_",
      "github_pat_",    "glpat-", "AKIA", "ASIA",  "xoxb-", "xoxp-", "xoxa-", "xoxr-",
      "xoxs-", "xoxe-", "AIza"};
  static const std::array<bool, 256> kStarts = [] {
    std::array<bool, 256> starts{};
    for (std::string_view prefix : kPrefixes) starts[static_cast<uint8_t>(prefix[0])] = true;
    return starts;
  }();
  std::string out;
  size_t copied = 0;  // text[copied, i) is still to be appended
  for (size_t i = 0; i < text.size(); ++i) {
    if (!kStarts[static_cast<uint8_t>(text[i])] || (i > 0 && IsKeyChar(text[i - 1]))) continue;
    for (std::string_view prefix : kPrefixes) {
      if (prefix[0] != text[i] || text.compare(i, prefix.size(), prefix) != 0) continue;
      size_t end = i + prefix.size();
      while (end < text.size() && IsKeyChar(text[end])) ++end;
      if (end - i - prefix.size() >= 16) {
        if (out.empty()) out.reserve(text.size());
        out.append(text.substr(copied, i - copied));
        out += kRedacted;
        copied = end;
        i = end - 1;
      }
      break;
    }
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

bool EndsUserinfo(char c) {
  return c == '/' || c == '@' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Replaces the password of URLs with credentials: scheme://user:PASSWORD@host.
std::string RedactUrlPasswords(std::string text) {
  size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string::npos) {
    size_t begin = pos + 3;
    size_t end = begin;
    while (end < text.size() && !EndsUserinfo(text[end])) ++end;
    size_t colon = text.find(':', begin);
    if (end < text.size() && text[end] == '@' && colon < end && colon + 1 < end) {
      text.replace(colon + 1, end - colon - 1, kRedacted);
      end = colon + 1 + kRedacted.size();
    }
    pos = end;
  }
  return text;
}

// `text` with every registered secret, raw or encoded, replaced.
std::string RedactSecrets(std::string_view text) {
  std::shared_ptr<const SecretIndex> index;
  {
    Registry& registry = TheRegistry();
    MutexLock lock(registry.mu);
    index = registry.index;
  }
  if (!index) return std::string(text);
  std::vector<Span> spans;
  index->Find(text, /*encoded_only=*/false, spans);
  FindWrapped(text, *index, spans);
  if (spans.empty()) return std::string(text);
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (size_t s = 0; s < spans.size();) {
    Span merged = spans[s++];
    while (s < spans.size() && spans[s].begin < merged.end) merged.end = std::max(merged.end, spans[s++].end);
    out.append(text.substr(at, merged.begin - at));
    out += kRedacted;
    at = merged.end;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

void Redactor::Register(std::string_view secret) {
  if (secret.size() < 8) return;
  Registry& registry = TheRegistry();
  MutexLock lock(registry.mu);
  auto& secrets = registry.secrets;
  if (std::find(secrets.begin(), secrets.end(), secret) != secrets.end()) return;
  secrets.emplace_back(secret);
  registry.index = std::make_shared<const SecretIndex>(secrets);
}

std::string Redactor::Apply(std::string_view text) {
  return RedactUrlPasswords(RedactKeyShapes(RedactSecrets(text)));
}

bool Redactor::HasSecretShape(std::string_view text) {
  return RedactUrlPasswords(RedactKeyShapes(text)) != text;
}

}  // namespace tandem
