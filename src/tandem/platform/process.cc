#include "tandem/platform/process.h"
#include "tandem/platform/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "tandem/platform/head_tail_buffer.h"
#include "tandem/platform/orphan_guard.h"

extern char** environ;

namespace tandem::platform {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKillGrace{2000};     // SIGTERM -> SIGKILL
constexpr milliseconds kCancelPoll{20};      // how often the cancel token is read
constexpr milliseconds kDrainAfterExit{500}; // bound on reading after the leader is gone

std::string ErrnoText(int err) { return std::strerror(err); }

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& overrides,
                                  bool inherit) {
  std::vector<std::string> env;
  for (char** e = inherit ? environ : nullptr; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    std::string key(entry.substr(0, eq));
    if (overrides.count(key) == 0) env.emplace_back(entry);
  }
  for (const auto& [key, value] : overrides) env.push_back(key + "=" + value);
  return env;
}

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Drives one running child: reads its output, enforces timeout and cancel,
// reaps it. The leader is reaped only after its group has been killed, so
// its pid (= the group id) cannot be reused while we still signal it.
class Runner {
 public:
  Runner(const ProcessSpec& spec, pid_t pid, int out_fd)
      : spec_(spec),
        pid_(pid),
        out_fd_(out_fd),
        pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))),  // -1 on old kernels: we fall back to polling
        output_(spec.output_limit) {}

  ProcessResult Run() {
    const auto start = Clock::now();
    std::optional<Clock::time_point> deadline;
    if (spec_.timeout.count() > 0) deadline = start + spec_.timeout;
    std::optional<Clock::time_point> kill_at;      // set once SIGTERM went out
    std::optional<Clock::time_point> drain_until;  // set once the leader exited
    bool pipe_open = true;
    int wait_status = 0;
    bool reaped = false;

    while (pipe_open || !reaped) {
      const auto now = Clock::now();
      if (!reaped && LeaderExited()) {
        ::kill(-pid_, SIGKILL);  // stragglers left in the group
        ForgetGroup(pid_);
        ::waitpid(pid_, &wait_status, 0);
        reaped = true;
        drain_until = now + kDrainAfterExit;
      }
      if (reaped && (!pipe_open || now >= *drain_until)) break;
      if (!reaped) {
        bool stop_now = false;
        if (spec_.cancel.stop_requested() && !result_.cancelled) {
          result_.cancelled = true;
          stop_now = true;
        }
        if (deadline && now >= *deadline && !result_.timed_out && !result_.cancelled) {
          result_.timed_out = true;
          stop_now = true;
        }
        if (stop_now && !kill_at) {
          ::kill(-pid_, SIGTERM);
          kill_at = now + kKillGrace;
        }
        if (kill_at && now >= *kill_at) ::kill(-pid_, SIGKILL);
      }

      // Sleep until output, the leader's exit, or the next thing to check.
      milliseconds wait{-1};
      auto wait_until = [&](Clock::time_point t) {
        auto d = std::chrono::ceil<milliseconds>(t - now);
        if (d.count() < 0) d = milliseconds{0};
        if (wait.count() < 0 || d < wait) wait = d;
      };
      if (!reaped) {
        if (deadline && !result_.timed_out) wait_until(*deadline);
        if (kill_at) wait_until(*kill_at);
        if (spec_.cancel.stop_possible() || pidfd_.get() < 0) wait_until(now + kCancelPoll);
      } else {
        wait_until(*drain_until);
      }
      pollfd fds[2];
      nfds_t n = 0;
      if (pipe_open) fds[n++] = {out_fd_, POLLIN, 0};
      // The leader's exit wakes us through its pidfd and is handled at the top.
      if (!reaped && pidfd_.get() >= 0) fds[n++] = {pidfd_.get(), POLLIN, 0};
      int ready = ::poll(fds, n, static_cast<int>(wait.count()));
      if (ready < 0 && errno != EINTR) break;
      if (ready <= 0) continue;
      if (pipe_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) pipe_open = ReadSome();
    }
    if (!reaped) {  // only on a poll failure: never leave a zombie or a live group
      ::kill(-pid_, SIGKILL);
      ForgetGroup(pid_);
      ::waitpid(pid_, &wait_status, 0);
    }

    if (WIFEXITED(wait_status)) {
      result_.exit_code = WEXITSTATUS(wait_status);
    } else if (WIFSIGNALED(wait_status)) {
      result_.exit_code = -1;
      result_.term_signal = WTERMSIG(wait_status);
    }
    result_.output = output_.Take();
    result_.output_bytes = output_.total_bytes();
    result_.duration_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return std::move(result_);
  }

 private:
  // True when the leader has exited; does not reap it.
  bool LeaderExited() {
    siginfo_t info;
    info.si_pid = 0;
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return errno == ECHILD;
    }
    return info.si_pid == pid_;
  }

  // Reads what is available; false at end of file.
  bool ReadSome() {
    char buf[65536];
    ssize_t got = ::read(out_fd_, buf, sizeof buf);
    if (got > 0) {
      output_.Append(std::string_view(buf, static_cast<size_t>(got)));
      return true;
    }
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    return false;
  }

  const ProcessSpec& spec_;
  pid_t pid_;
  int out_fd_;
  Fd pidfd_;
  HeadTailBuffer output_;
  ProcessResult result_;
};

}  // namespace

std::string FindExecutable(const std::string& name, const std::string& path_var) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return IsExecutableFile(name) ? name : "";
  size_t begin = 0;
  while (begin <= path_var.size()) {
    size_t end = path_var.find(':', begin);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(begin, end - begin);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  return "";
}

Result<std::string> ResolveSpawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) return InvalidArgument("empty command");
  std::string path_var;
  if (auto it = spec.env.find("PATH"); it != spec.env.end()) {
    path_var = it->second;
  } else if (const char* p = ::getenv("PATH"); p != nullptr) {
    path_var = p;
  } else {
    path_var = "/usr/local/bin:/usr/bin:/bin";
  }
  std::string program = FindExecutable(spec.argv[0], path_var);
  if (program.empty()) {
    return NotFound("command not found: '" + spec.argv[0] + "' (not an executable on PATH)");
  }
  if (!spec.cwd.empty()) {
    struct stat st;
    if (::stat(spec.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return NotFound("working directory does not exist: " + spec.cwd);
    }
  }
  return program;
}

std::vector<std::string> SpawnEnvironment(const ProcessSpec& spec) {
  std::vector<std::string> env = BuildEnv(spec.env, spec.inherit_env);
  if (std::string owner = OwnerEnvEntry(); !owner.empty()) env.push_back(owner);
  return env;
}

Result<ProcessResult> RunProcess(const ProcessSpec& spec) {
  std::string program = TRY(ResolveSpawn(spec));

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return IoError("pipe2: " + ErrnoText(errno));
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  // Guarded from before its first instruction (spawn.h): killed with tandem
  // if tandem dies first (orphan_guard.h).
  pid_t pid = TRY(SpawnGuarded(program, spec, {-1, write_end.get(), write_end.get()}));
  write_end.Reset();  // EOF arrives once every writer in the child tree is gone
  Runner runner(spec, pid, read_end.get());
  return runner.Run();
}

}  // namespace tandem::platform
