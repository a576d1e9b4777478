#include "tandem/base/redact.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace tandem {
namespace {

std::mutex& Mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::string>& Secrets() {
  static std::vector<std::string> s;
  return s;
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Replaces tokens that start with a known key prefix and continue with at
// least 16 key characters.
std::string RedactKeyShapes(std::string text) {
  static const std::string_view kPrefixes[] = {"sk-", "gsk_", "csk-", "xai-"};
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    if (i == 0 || !IsKeyChar(text[i - 1])) {
      for (std::string_view prefix : kPrefixes) {
        if (text.compare(i, prefix.size(), prefix) != 0) continue;
        size_t end = i + prefix.size();
        while (end < text.size() && IsKeyChar(text[end])) ++end;
        if (end - i - prefix.size() >= 16) {
          out += "[REDACTED]";
          i = end;
          matched = true;
        }
        break;
      }
    }
    if (!matched) out += text[i++];
  }
  return out;
}

}  // namespace

void Redactor::Register(std::string_view secret) {
  if (secret.size() < 8) return;
  std::lock_guard<std::mutex> lock(Mutex());
  auto& secrets = Secrets();
  if (std::find(secrets.begin(), secrets.end(), secret) == secrets.end()) {
    secrets.emplace_back(secret);
  }
}

std::string Redactor::Apply(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard<std::mutex> lock(Mutex());
    for (const std::string& secret : Secrets()) {
      size_t pos = 0;
      while ((pos = out.find(secret, pos)) != std::string::npos) {
        out.replace(pos, secret.size(), "[REDACTED]");
        pos += 10;
      }
    }
  }
  return RedactKeyShapes(std::move(out));
}

}  // namespace tandem
