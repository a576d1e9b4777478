#include "tests/support/model_server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

extern char** environ;

namespace tandem::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr std::string_view kListeningPrefix = "listening 127.0.0.1:";

Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// Reads one line from `fd` (up to the deadline). Returns the line without
// "\n"; an error when the pipe closes or time runs out first.
Result<std::string> ReadLine(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return DeadlineExceeded("no listening line from the model server");
    pollfd pfd{fd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("the model server closed stdout before listening");
    if (c == '\n') return line;
    line += c;
  }
}

}  // namespace

std::string ModelServerBinary() {
  return std::string(TANDEM_BINARY_DIR) + "/tests/model_server/tandem-model-server";
}

Result<std::unique_ptr<ModelServerProcess>> ModelServerProcess::Start(
    const ModelServerOptions& options) {
  std::unique_ptr<ModelServerProcess> process(new ModelServerProcess());
  const std::string binary = ModelServerBinary();
  if (access(binary.c_str(), X_OK) != 0) {
    return NotFound("model server binary not found: " + binary);
  }
  const std::string script_path = process->dir_.path() + "/script.json";
  RETURN_IF_ERROR(WriteFile(script_path, options.script_json));
  process->record_path_ = process->dir_.path() + "/requests.jsonl";

  std::vector<std::string> args = {binary,
                                   "--script",
                                   script_path,
                                   "--port",
                                   "0",
                                   "--tokens-per-second",
                                   std::to_string(options.tokens_per_second),
                                   "--ttft-ms",
                                   std::to_string(options.ttft_ms),
                                   "--record",
                                   process->record_path_};
  if (!options.api_key.empty()) {
    args.push_back("--api-key");
    args.push_back(options.api_key);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return IoError(std::string("pipe2: ") + std::strerror(errno));
  }
  // posix_spawn, not fork: tests are multi-threaded, and spawn is safe there.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  const std::string stderr_path = process->dir_.path() + "/server.stderr";
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    return IoError("cannot start " + binary + ": " + std::strerror(spawn_error));
  }
  process->pid_ = pid;
  process->stdout_fd_ = pipe_fds[0];

  auto line = ReadLine(process->stdout_fd_, std::chrono::steady_clock::now() + kStartTimeout);
  if (!line) {
    // Closed stdout usually means it is exiting: give it a moment to be
    // reaped so the error says how it ended. Otherwise the destructor kills it.
    auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int status = 0;
    while (std::chrono::steady_clock::now() < reap_deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        process->pid_ = -1;
        return Unavailable("model server " + DescribeExit(status) +
                           " before listening: " + ReadFile(stderr_path));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Status(line.error().code(),
                  line.error().message() + "; stderr: " + ReadFile(stderr_path));
  }
  if (line->rfind(kListeningPrefix, 0) != 0) {
    return Internal("unexpected first line from the model server: " + *line);
  }
  process->port_ = std::atoi(line->c_str() + kListeningPrefix.size());
  if (process->port_ <= 0) return Internal("bad port in: " + *line);
  return process;
}

ModelServerProcess::~ModelServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string ModelServerProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::vector<nlohmann::json> ModelServerProcess::Requests() const {
  std::vector<nlohmann::json> requests;
  std::ifstream in(record_path_);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // A line still being written has no newline yet; getline returns it only
    // at EOF, and it may not parse: skip it.
    nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!value.is_discarded()) requests.push_back(std::move(value));
  }
  return requests;
}

}  // namespace tandem::testing
