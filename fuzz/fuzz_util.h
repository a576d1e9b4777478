// Helpers shared by the libFuzzer targets: failing loudly, temp dirs and a
// UTF-8 check. Header-only so each target stays one .cc plus this.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::fuzz {

// Prints `what` and `detail`, then aborts so libFuzzer saves the input.
[[noreturn]] inline void Fail(const char* target, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n%s\n", target, what, detail.c_str());
  std::abort();
}

// A fresh directory for this process, on tmpfs when there is one (the code
// under test fsyncs; on a disk that costs milliseconds per input).
inline std::filesystem::path MakeTempDir(const char* prefix) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                   ? std::filesystem::path("/dev/shm")
                                   : std::filesystem::temp_directory_path();
  std::string dir = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(dir.data()) == nullptr) Fail(prefix, "mkdtemp failed", dir);
  // Removed when the fuzzer exits normally; a crash leaves it for a look.
  struct Remover {
    std::vector<std::filesystem::path> dirs;
    ~Remover() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Remover remover;
  remover.dirs.push_back(dir);
  return dir;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return false;
    unsigned cp = n == 0 ? c : c & (0x3Fu >> n);
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace tandem::fuzz
