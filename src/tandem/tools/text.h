// Text helpers for what the model sees: UTF-8 validation and repair, binary
// detection, and line truncation. Everything handed to the model must be
// valid UTF-8 (JSON encoders reject anything else). Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem::tools {

// Length of the longest prefix of `s` that is valid UTF-8. A multi-byte
// sequence cut off at the end of `s` is not counted.
size_t ValidUtf8Prefix(std::string_view s);

bool IsValidUtf8(std::string_view s);

// Replaces each invalid byte with U+FFFD.
std::string SanitizeUtf8(std::string_view s);

// True for content that should not be shown as text: a NUL byte, or bytes
// that are not UTF-8. `s` may be a prefix of a larger file: a sequence cut
// off at its end is not held against it.
bool LooksBinary(std::string_view s);

// The first `max_bytes` of `s`, cut back to a UTF-8 boundary.
std::string_view Utf8Truncate(std::string_view s, size_t max_bytes);

}  // namespace tandem::tools
