#include "tandem/mcp/stdio_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tandem/platform/orphan_guard.h"
#include "tandem/platform/spawn.h"

namespace tandem::mcp {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kCancelPoll{20};

milliseconds Until(StdioProcess::Clock::time_point deadline) {
  auto d = std::chrono::ceil<milliseconds>(deadline - StdioProcess::Clock::now());
  return d.count() < 0 ? milliseconds{0} : d;
}

}  // namespace

Result<std::unique_ptr<StdioProcess>> StdioProcess::Start(const platform::ProcessSpec& spec,
                                                          size_t max_line_bytes) {
  std::string program = TRY(platform::ResolveSpawn(spec));
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return IoError(std::string("pipe2: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return IoError(std::string("pipe2: ") + std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return IoError(std::string("pipe2: ") + std::strerror(errno));
  }
  // Guarded from before its first instruction (platform/spawn.h).
  auto pid = platform::SpawnGuarded(program, spec, {in[0], out[1], err[1]});
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!pid) {
    ::close(in[1]), ::close(out[0]), ::close(err[0]);
    return pid.error();
  }
  for (int fd : {in[1], out[0], err[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<StdioProcess>(new StdioProcess(*pid, in[1], out[0], err[0], max_line_bytes));
}

StdioProcess::StdioProcess(pid_t pid, int in_fd, int out_fd, int err_fd, size_t max_line_bytes)
    : pid_(pid),
      in_fd_(in_fd),
      out_fd_(out_fd),
      err_fd_(err_fd),
      pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))),
      reader_(max_line_bytes) {}

StdioProcess::~StdioProcess() {
  Shutdown(milliseconds(200));
  CloseFd(&pidfd_);
}

void StdioProcess::CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

short StdioProcess::PollOnce(milliseconds wait, bool want_write) {
  pollfd fds[3];
  nfds_t n = 0;
  int out_i = -1, err_i = -1, in_i = -1;
  if (out_fd_ >= 0) out_i = static_cast<int>(n), fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) err_i = static_cast<int>(n), fds[n++] = {err_fd_, POLLIN, 0};
  if (want_write && in_fd_ >= 0) in_i = static_cast<int>(n), fds[n++] = {in_fd_, POLLOUT, 0};
  if (n == 0) return 0;
  int ready = ::poll(fds, n, static_cast<int>(wait.count()));
  if (ready <= 0) return 0;
  char buf[65536];
  if (out_i >= 0 && (fds[out_i].revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t got = ::read(out_fd_, buf, sizeof buf);
    if (got > 0) {
      reader_.Feed(std::string_view(buf, static_cast<size_t>(got)));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      out_eof_ = true;
      CloseFd(&out_fd_);
    }
  }
  if (err_i >= 0 && (fds[err_i].revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t got = ::read(err_fd_, buf, sizeof buf);
    if (got > 0) {
      stderr_.Append(std::string_view(buf, static_cast<size_t>(got)));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      CloseFd(&err_fd_);
    }
  }
  return in_i >= 0 ? fds[in_i].revents : 0;
}

Status StdioProcess::WriteLine(const std::string& line, Clock::time_point deadline,
                               std::stop_token cancel) {
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    if (in_fd_ < 0) return Unavailable("its stdin is closed");
    ssize_t wrote = ::write(in_fd_, data.data() + done, data.size() - done);
    if (wrote > 0) {
      done += static_cast<size_t>(wrote);
      continue;
    }
    if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
      return Unavailable(std::string("writing to it failed: ") + std::strerror(errno));
    }
    if (cancel.stop_requested()) return Cancelled("cancelled");
    if (Clock::now() >= deadline) return DeadlineExceeded("timed out writing a request");
    short revents = PollOnce(std::min(Until(deadline), kCancelPoll), true);
    if (revents & (POLLERR | POLLHUP)) return Unavailable("it closed its stdin");
  }
  return Status::Ok();
}

Result<std::string> StdioProcess::ReadLine(Clock::time_point deadline, std::stop_token cancel) {
  for (;;) {
    auto next = reader_.Next();
    if (!next) return next.error();
    if (next->has_value()) return std::move(**next);
    if (out_eof_) return Unavailable("its stdout ended");
    if (cancel.stop_requested()) return Cancelled("cancelled");
    if (Clock::now() >= deadline) return DeadlineExceeded("no reply in time");
    milliseconds wait = Until(deadline);
    if (cancel.stop_possible()) wait = std::min(wait, kCancelPoll);
    PollOnce(wait, false);
  }
}

void StdioProcess::DrainStderr(milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (err_fd_ >= 0 && Clock::now() < until) PollOnce(Until(until), false);
}

bool StdioProcess::Exited() {
  if (reaped_) return true;
  pid_t got = ::waitpid(pid_, &wait_status_, WNOHANG);
  if (got == pid_) {
    reaped_ = true;
    ::kill(-pid_, SIGKILL);  // what it left behind in its group
    platform::ForgetGroup(pid_);
  }
  return reaped_;
}

std::string StdioProcess::ExitDescription() {
  if (!Exited()) return "running";
  if (WIFEXITED(wait_status_)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) return "killed by signal " + std::to_string(WTERMSIG(wait_status_));
  return "exited";
}

bool StdioProcess::WaitForExit(milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (!Exited() && Clock::now() < until) {
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min(Until(until), milliseconds(50)).count()));
    } else {
      ::usleep(5000);
    }
  }
  return Exited();
}

void StdioProcess::Shutdown(milliseconds grace) {
  CloseFd(&in_fd_);
  if (!WaitForExit(grace)) {
    ::kill(-pid_, SIGTERM);
    if (!WaitForExit(grace)) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &wait_status_, 0);
      reaped_ = true;
      platform::ForgetGroup(pid_);
    }
  }
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
}

}  // namespace tandem::mcp
