// Test helpers for the tools module: a temporary directory removed on
// destruction, file writing, and a git repository initializer.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tandem/platform/process.h"

namespace tandem::tools::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tandem_tools_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = std::filesystem::canonical(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `sh -c script` in `dir`; returns its output (empty on failure to start).
inline std::string Sh(const std::filesystem::path& dir, const std::string& script) {
  platform::ProcessSpec spec;
  spec.argv = {"sh", "-c", script};
  spec.cwd = dir.string();
  auto r = platform::RunProcess(spec);
  return r ? r->output : std::string();
}

inline void GitInit(const std::filesystem::path& dir) {
  Sh(dir, "git init -q && git config user.email t@t && git config user.name t"
         " && git config gc.auto 0 && git config gc.autoDetach false");
}

}  // namespace tandem::tools::testing
