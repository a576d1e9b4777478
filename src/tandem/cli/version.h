#pragma once

namespace tandem::cli {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace tandem::cli
