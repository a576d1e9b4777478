// Test support: a throwaway git repository in a temp directory, set up and
// inspected with the git CLI (the real thing, not libgit2, so tests check
// tandem against git's own view).
#pragma once

#include <filesystem>
#include <string>

namespace tandem::workspace::testing {

class TestRepo {
 public:
  // `git init` in a fresh temp directory, with a local identity configured.
  TestRepo();
  ~TestRepo();  // removes the directory
  TestRepo(const TestRepo&) = delete;
  TestRepo& operator=(const TestRepo&) = delete;

  const std::filesystem::path& root() const { return root_; }

  // Runs `git <args>` in the repository; returns stdout. Aborts the test
  // binary (via ADD_FAILURE + empty output) on a non-zero exit.
  std::string Git(const std::string& args) const;
  // Runs a shell command in the repository; returns its exit code.
  int Shell(const std::string& command, std::string* output = nullptr) const;

  void Write(const std::string& path, const std::string& content) const;  // creates parents
  std::string Read(const std::string& path) const;                        // "" if missing
  bool Exists(const std::string& path) const;                             // lstat
  bool IsExecutable(const std::string& path) const;
  bool IsSymlink(const std::string& path) const;
  std::string LinkTarget(const std::string& path) const;
  void Remove(const std::string& path) const;  // file or directory tree
  void Chmod(const std::string& path, unsigned mode) const;
  void Symlink(const std::string& target, const std::string& path) const;

  // `git add -A && git commit`.
  void CommitAll(const std::string& message = "commit") const;

 private:
  std::filesystem::path root_;
};

}  // namespace tandem::workspace::testing
