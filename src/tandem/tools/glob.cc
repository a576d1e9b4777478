#include "tandem/tools/glob.h"

namespace tandem::tools {
namespace {

// Matches one bracket class at p[0] == '['; sets `consumed` to its length.
bool MatchClass(std::string_view p, char c, size_t& consumed) {
  size_t i = 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  for (; i < p.size() && (p[i] != ']' || first); ++i, first = false) {
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      if (c >= p[i] && c <= p[i + 2]) matched = true;
      i += 2;
    } else if (p[i] == c) {
      matched = true;
    }
  }
  if (i >= p.size()) {  // no closing ']': a literal '['
    consumed = 1;
    return c == '[';
  }
  consumed = i + 1;
  return matched != negate;
}

bool Match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.starts_with("**")) {
      std::string_view rest = p.substr(2);
      if (rest.starts_with("/")) {
        // "**/" matches zero or more whole segments.
        std::string_view after = rest.substr(1);
        if (Match(after, s)) return true;
        for (size_t i = 0; i < s.size(); ++i) {
          if (s[i] == '/' && Match(after, s.substr(i + 1))) return true;
        }
        return false;
      }
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(rest, s.substr(i))) return true;
      }
      return false;
    }
    if (p[0] == '*') {
      std::string_view rest = p.substr(1);
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(rest, s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty()) return false;
    if (p[0] == '?') {
      if (s[0] == '/') return false;
      p.remove_prefix(1);
      s.remove_prefix(1);
      continue;
    }
    if (p[0] == '[') {
      size_t consumed = 0;
      if (s[0] == '/' || !MatchClass(p, s[0], consumed)) return false;
      p.remove_prefix(consumed);
      s.remove_prefix(1);
      continue;
    }
    if (p[0] != s[0]) return false;
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  if (pattern.find('/') == std::string_view::npos) {
    auto slash = path.rfind('/');
    if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  } else if (pattern.starts_with("/")) {
    pattern.remove_prefix(1);
  }
  return Match(pattern, path);
}

}  // namespace tandem::tools
