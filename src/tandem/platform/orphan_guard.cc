#include "tandem/platform/orphan_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "tandem/base/mutex.h"
#include "tandem/platform/spawn.h"

namespace tandem::platform {
namespace {

// One message on the pipe: +pgid registers, -pgid unregisters. 4 bytes, well
// under PIPE_BUF, so concurrent writers never interleave.
using Message = int32_t;

constexpr int kMaxGroups = 8192;  // more concurrent children than tandem ever runs

// The guard of the process `g_owner`. A child forked without exec inherits
// these; it notices (getpid() differs) and starts a guard of its own.
Mutex g_mu;
pid_t g_owner GUARDED_BY(g_mu) = 0;
int g_write_fd GUARDED_BY(g_mu) = -1;
std::atomic<pid_t> g_guard_pid{0};

// The guard's whole life. Runs in a child forked from a multi-threaded
// process: only async-signal-safe calls, no allocation.
[[noreturn]] void GuardMain(int read_fd) {
  ::setsid();
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) {
    ::sigaction(sig, &ignore, nullptr);
  }
  // Keep nothing of tandem's: not its working directory (a repository or a
  // worktree the guard would hold and show up in while tandem ends), nor
  // what it has open (its repository lock, its stdout pipe).
  [[maybe_unused]] int at_root = ::chdir("/");
  CloseDescriptorsFrom(0, read_fd);
  ::prctl(PR_SET_NAME, "tandem-guard", 0, 0, 0);

  pid_t groups[kMaxGroups];
  int count = 0;
  char buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t got = ::read(read_fd, buf + have, sizeof buf - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // tandem is gone
    have += static_cast<size_t>(got);
    size_t used = 0;
    for (; used + sizeof(Message) <= have; used += sizeof(Message)) {
      Message m;
      __builtin_memcpy(&m, buf + used, sizeof m);
      if (m > 0 && count < kMaxGroups) {
        groups[count++] = m;
      } else if (m < 0) {
        for (int i = 0; i < count; ++i) {
          if (groups[i] == -m) {
            groups[i] = groups[--count];
            break;
          }
        }
      }
    }
    __builtin_memmove(buf, buf + used, have - used);
    have -= used;
  }
  for (int i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
  ::_exit(0);
}

// Starts this process's guard.
void Start() REQUIRES(g_mu) {
  if (g_write_fd >= 0) ::close(g_write_fd);  // a forked parent's guard, not ours
  g_write_fd = -1;
  g_owner = ::getpid();
  g_guard_pid.store(0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  pid_t pid = ::fork();
  if (pid == 0) GuardMain(fds[0]);
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return;
  }
  g_write_fd = fds[1];
  g_guard_pid.store(pid);
}

bool Send(Message m) REQUIRES(g_mu) {
  if (g_write_fd < 0 || g_owner != ::getpid()) return false;
  for (;;) {
    ssize_t wrote = ::write(g_write_fd, &m, sizeof m);
    if (wrote == static_cast<ssize_t>(sizeof m)) return true;
    if (wrote < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

int EnsureOrphanGuard() {
  MutexLock lock(g_mu);
  if (g_owner != ::getpid()) Start();
  return g_write_fd;
}

bool RegisterGroupFromChild(int guard_fd, pid_t pgid) {
  if (guard_fd < 0 || pgid <= 0) return false;
  const Message m = static_cast<Message>(pgid);
  for (;;) {
    ssize_t wrote = ::write(guard_fd, &m, sizeof m);
    if (wrote == static_cast<ssize_t>(sizeof m)) return true;
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && errno == EPIPE) {
      // The SIGPIPE is pending (the child blocks every signal until its
      // exec); setting SIG_IGN discards it, then the action is put back.
      struct sigaction ignore {}, previous {};
      ignore.sa_handler = SIG_IGN;
      ::sigaction(SIGPIPE, &ignore, &previous);
      ::sigaction(SIGPIPE, &previous, nullptr);
    }
    return false;
  }
}

void ForgetGroup(pid_t pgid) {
  if (pgid <= 0) return;
  MutexLock lock(g_mu);
  Send(-static_cast<Message>(pgid));
}

pid_t OrphanGuardPid() { return g_guard_pid.load(); }

namespace {
Mutex g_tag_mu;
std::string g_owner_entry GUARDED_BY(g_tag_mu);

// The contents of a /proc file; "" when unreadable or the process is gone.
std::string ReadProcFile(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[8192];
  ssize_t got;
  while ((got = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(got));
  ::close(fd);
  return got < 0 ? "" : text;
}
}  // namespace

void SetOwnerTag(const std::string& tag) {
  MutexLock lock(g_tag_mu);
  g_owner_entry = std::string(kOwnerVariable) + "=" + tag;
}

std::string OwnerEnvEntry() {
  MutexLock lock(g_tag_mu);
  return g_owner_entry;
}

int KillLeftoversOf(const std::string& tag) {
  if (tag.empty()) return 0;
  // NUL-delimited on both sides: TANDEM_OWNER=12.3 must not match 12.34.
  const std::string wanted = std::string(1, '\0') + kOwnerVariable + "=" + tag + '\0';
  const pid_t self = ::getpid();
  int killed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == self) continue;
    std::string env = std::string(1, '\0') + ReadProcFile("/proc/" + name + "/environ");
    if (env.back() != '\0') env.push_back('\0');
    if (env.find(wanted) == std::string::npos) continue;
    if (::kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

}  // namespace tandem::platform
