// Test-only helpers for the ledger tests: a temporary directory, a manual
// clock, and forked child processes whose liveness the test controls.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tandem/ledger/ledger.h"

namespace tandem::ledger::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ledger_test_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A clock the test moves by hand.
struct ManualClock {
  int64_t now = 1'700'000'000'000;
  Clock fn() {
    return [this] { return now; };
  }
};

inline std::unique_ptr<Ledger> OpenOrDie(const std::filesystem::path& path, ManualClock& clock,
                                         Durability durability = Durability::kProcessCrash) {
  auto ledger = Ledger::Open(LedgerOptions{path, clock.fn(), durability});
  if (!ledger) {
    fprintf(stderr, "Ledger::Open: %s\n", ledger.error().ToString().c_str());
    std::abort();
  }
  return std::move(*ledger);
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process blocked until Kill(); its identity is captured while it
// runs, so it is a real (pid, start time) that later dies.
class ChildProcess {
 public:
  ChildProcess() {
    pid_ = fork();
    if (pid_ == 0) {
      while (true) pause();
    }
    identity_ = ProcessIdentity::Of(pid_);
  }
  ~ChildProcess() { Kill(); }
  const ProcessIdentity& identity() const { return identity_; }
  // Kills and reaps the child.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  ProcessIdentity identity_;
};

}  // namespace tandem::ledger::testing
