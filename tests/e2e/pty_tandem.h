// PtyTandem: the real binary on a pseudo-terminal (forkpty), so stdin is a
// terminal exactly as for a person: its live input and approval prompts.
#pragma once

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace tandem::e2e {

// tandem on a pseudo-terminal: stdin, stdout and stderr are the terminal.
class PtyTandem {
 public:
  PtyTandem(const std::string& cwd, const std::vector<std::string>& args,
            const std::string& config_home) {
    std::vector<std::string> argv_storage = {std::string(TANDEM_BINARY_DIR) + "/tandem"};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<std::string> env_storage;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view entry(*e);
      std::string name(entry.substr(0, entry.find('=')));
      if (name == "XDG_CONFIG_HOME" || name.rfind("TANDEM_", 0) == 0) continue;
      env_storage.emplace_back(entry);
    }
    env_storage.push_back("XDG_CONFIG_HOME=" + config_home);
    std::vector<char*> argv, envp;
    for (auto& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_ = ::forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      if (::chdir(cwd.c_str()) != 0) _exit(127);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGPIPE, SIG_DFL);
      ::execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
  }
  ~PtyTandem() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }

  bool started() const { return pid_ > 0; }

  // Reads the terminal until its output holds `text`; false on timeout or EOF.
  bool WaitFor(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !ReadSome(100)) return false;
    }
    return true;
  }

  // Reads the terminal until `done()` holds; false on timeout or EOF.
  bool WaitUntil(const std::function<bool()>& done,
                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline || !ReadSome(100)) return false;
    }
    return true;
  }

  // Types a line, as a person pressing Enter.
  void Type(const std::string& line) {
    std::string bytes = line + "\n";
    ASSERT_EQ(::write(master_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // Reads to the end and reaps; returns the exit code (-1 on a signal/timeout).
  int Wait() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && ReadSome(100)) {
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& output() const { return output_; }
  // The output without the terminal's carriage returns (ONLCR).
  std::string Text() const {
    std::string text = output_;
    std::erase(text, '\r');
    return text;
  }

  // The JSON objects among the output's lines (--json), of one type.
  std::vector<nlohmann::json> Events(const std::string& type) const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(output_);
    std::string line;
    while (std::getline(lines, line)) {
      size_t brace = line.find('{');
      if (brace == std::string::npos) continue;
      auto j = nlohmann::json::parse(line.substr(brace), nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("type", "") == type) out.push_back(j);
    }
    return out;
  }

 private:
  // False at EOF (the child closed the terminal).
  bool ReadSome(int timeout_ms) {
    pollfd p{master_, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n == 0) return true;
    char buf[4096];
    ssize_t got = ::read(master_, buf, sizeof buf);
    if (got <= 0) return false;  // EIO once the child is gone
    output_.append(buf, static_cast<size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  std::string output_;
};

}  // namespace tandem::e2e
