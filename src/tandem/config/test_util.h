// Test helpers for the config tests: a temporary home and repository.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tandem/config/loader.h"

namespace tandem::config::testing {

// A fresh directory tree, removed on destruction: <root>/home and <root>/repo.
class TempTree {
 public:
  TempTree() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tandem-config-XXXXXX").string();
    root_ = mkdtemp(pattern.data());
    std::filesystem::create_directories(home());
    std::filesystem::create_directories(repo());
  }
  ~TempTree() { std::filesystem::remove_all(root_); }

  std::string root() const { return root_; }
  std::string home() const { return root_ + "/home"; }
  std::string repo() const { return root_ + "/repo"; }
  std::string user_file() const { return home() + "/.config/tandem/config.toml"; }
  std::string repo_file() const { return repo() + "/.tandem/config.toml"; }

  // Writes `content` to `path`, creating parent directories.
  static void Write(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  ConfigInputs Inputs(Env env = {}, std::vector<std::string> overrides = {}) const {
    return ConfigInputs{home(), repo(), std::move(env), std::move(overrides)};
  }

 private:
  std::string root_;
};

// The configuration `tree` holds, loaded with `env`; a load error fails the
// calling test and gives an empty configuration.
inline LoadedConfig Load(const TempTree& tree, const Env& env) {
  Result<LoadedConfig> loaded = LoadConfig(tree.Inputs(env));
  EXPECT_TRUE(loaded) << loaded.error().ToString();
  return loaded ? *loaded : LoadedConfig{};
}

}  // namespace tandem::config::testing
