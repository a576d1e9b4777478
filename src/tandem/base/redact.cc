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
std::string RedactKeyShapes(std::string_view text) {
  static const std::string_view kPrefixes[] = {
      "sk-",   "gsk_",  "csk-",  "xai-",  "ghp_",  "gho_",  "ghu_",  "ghs_",  "ghr_",
      "github_pat_",    "glpat-", "AKIA", "ASIA",  "xoxb-", "xoxp-", "xoxa-", "xoxr-",
      "xoxs-", "xoxe-", "AIza"};
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
      text.replace(colon + 1, end - colon - 1, "[REDACTED]");
      end = colon + 1 + 10;
    }
    pos = end;
  }
  return text;
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
  return RedactUrlPasswords(RedactKeyShapes(out));
}

bool Redactor::HasSecretShape(std::string_view text) {
  return RedactUrlPasswords(RedactKeyShapes(text)) != text;
}

}  // namespace tandem
