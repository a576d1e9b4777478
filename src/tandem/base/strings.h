// Small string helpers shared across modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

// `s` without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view TrimSpace(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// `s` without leading and trailing ASCII white space (space, \t, \n, \v, \f,
// \r: what std::isspace accepts in the "C" locale).
inline std::string_view TrimAsciiSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// The first `n` bytes of `s` (all of it when shorter), shortened further to
// end on a UTF-8 character boundary, so a cut never splits a character.
inline std::string CutUtf8(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

// `text` up to its first line feed (all of it when it has none): a summary's
// or an error's headline for one-line displays.
inline std::string FirstLine(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

// `text` without a leading UTF-8 byte-order mark (EF BB BF), which some
// editors write at the top of a Markdown file.
inline std::string_view StripUtf8Bom(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

// Appends code point `cp` to `out` encoded as UTF-8 (1 to 4 bytes). The
// caller passes a valid scalar value (JSON and YAML \u escapes, surrogate
// pairs already joined); nothing is checked here.
inline void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A rough token count of `text` (bytes / 4, rounded up): tandem's one
// estimate for budgeting prompts (agent::EstimateTokens builds on it).
inline int64_t EstimateTextTokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

}  // namespace tandem
