// Test support: a fresh private directory, removed with all its contents
// when the TempDir is destroyed.
#pragma once

#include <string>

namespace tandem::testing {

class TempDir {
 public:
  // Creates $TMPDIR/tandem-test-XXXXXX (TMPDIR defaults to /tmp). Aborts the
  // test binary if the directory cannot be created: nothing sensible can follow.
  TempDir();
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tandem::testing
