#include "tandem/platform/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "tandem/platform/orphan_guard.h"

namespace tandem::platform {
namespace {

// The child runs on this much stack of its own until it execs; what it
// calls (sigaction, write, dup2, execve) needs a few hundred bytes, and the
// pages are only touched as used. posix_spawn reserves 32 KiB and more.
constexpr size_t kChildStack = 64 * 1024;

std::atomic<bool> g_skip_close_range{false};
std::atomic<void (*)(pid_t)> g_after_spawn_hook{nullptr};

// Everything the child needs, prepared by the parent: the child shares the
// parent's memory and must not allocate, lock or touch anything else.
struct ChildArgs {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: stay
  ChildStdio stdio;
  int guard_fd;
  sigset_t empty_mask;
  int error = 0;  // the child's errno when it could not exec
};

bool ResetToDefault(int sig) {
  switch (sig) {
    case SIGPIPE: case SIGINT: case SIGTERM: case SIGQUIT: case SIGHUP:
    case SIGCHLD: case SIGUSR1: case SIGUSR2: case SIGALRM:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void ChildFailed(ChildArgs* args) {
  args->error = errno != 0 ? errno : EIO;
  ::_exit(127);
}

// The child between clone and exec. It shares the parent's memory while the
// parent's thread waits (CLONE_VFORK), on a stack of its own: only
// async-signal-safe calls, no allocation, no lock; every signal is blocked
// until the exec. Not instrumented by sanitizers: their runtime would act on
// the parent thread's state from a process that is not that thread.
__attribute__((no_sanitize("address", "undefined"))) int ChildMain(void* raw) {
  auto* args = static_cast<ChildArgs*>(raw);
  // No handler of tandem's may run here (it would act on the parent's
  // memory), nor reach the command: handled signals go back to their
  // default action; ignored ones stay ignored but for the list above.
  struct sigaction to_default {};
  to_default.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction now {};
    if (::sigaction(sig, nullptr, &now) != 0) continue;  // SIGKILL, SIGSTOP, libc's own
    if (now.sa_handler == SIG_DFL) continue;
    if (now.sa_handler == SIG_IGN && !ResetToDefault(sig)) continue;
    ::sigaction(sig, &to_default, nullptr);
  }
  if (::setsid() < 0) ChildFailed(args);
  // Registered before anything of the command runs. The guard reads this
  // even when tandem dies right now: it sees its pipe's end only once this
  // child's copy of the write end closes, at the exec.
  RegisterGroupFromChild(args->guard_fd, ::getpid());

  // Descriptors 0-2 may be the very ones we dup onto (tandem started with
  // some of them closed): lift the sources above 2 first.
  int in = args->stdio.in, out = args->stdio.out, err = args->stdio.err;
  for (int* fd : {&in, &out, &err}) {
    if (*fd >= 0 && *fd <= 2 && (*fd = ::fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0) ChildFailed(args);
  }
  // Not O_CLOEXEC: it may land on 0 itself, where dup2 leaves the flag on.
  if (in < 0 && (in = ::open("/dev/null", O_RDONLY)) < 0) ChildFailed(args);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ChildFailed(args);
  if (args->cwd != nullptr && ::chdir(args->cwd) != 0) ChildFailed(args);
  CloseDescriptorsFrom(3, -1);
  ::sigprocmask(SIG_SETMASK, &args->empty_mask, nullptr);
  ::execve(args->program, args->argv, args->envp);
  ChildFailed(args);
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

void CloseDescriptorsFrom(int first, int keep) {
  const unsigned low = static_cast<unsigned>(first);
  const bool skip = keep >= first;
  const unsigned k = static_cast<unsigned>(keep);
  if (!g_skip_close_range.load()) {
    bool closed = skip ? (k == low || ::close_range(low, k - 1, 0) == 0) &&
                             ::close_range(k + 1, ~0U, 0) == 0
                       : ::close_range(low, ~0U, 0) == 0;
    if (closed) return;
  }
  struct rlimit limit {};
  rlim_t end = 1 << 20;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    end = limit.rlim_cur;
  }
  for (rlim_t fd = low; fd < end; ++fd) {
    if (!skip || fd != k) ::close(static_cast<int>(fd));
  }
}

void SkipCloseRangeForTesting() { g_skip_close_range.store(true); }

void SetAfterSpawnHookForTesting(void (*hook)(pid_t)) { g_after_spawn_hook.store(hook); }

Result<pid_t> SpawnGuarded(const std::string& program, const ProcessSpec& spec,
                           const ChildStdio& stdio) {
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = SpawnEnvironment(spec);
  std::vector<char*> envp = CStrings(env_strings);

  ChildArgs args{};
  args.program = program.c_str();
  args.argv = argv.data();
  args.envp = envp.data();
  args.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  args.stdio = stdio;
  args.guard_fd = EnsureOrphanGuard();  // the fork, when there is one, before the clone
  sigemptyset(&args.empty_mask);

  auto cannot_start = [&](int err) -> Status {
    std::string text = "cannot start '" + spec.argv[0] + "': " + std::strerror(err);
    return err == ENOENT ? NotFound(text) : IoError(text);
  };
  void* stack = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return cannot_start(errno);

  // Every signal blocked across the clone: the child must not run a
  // handler of ours before it has reset them; the parent's mask comes back
  // as soon as the child has exec'd (or failed).
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = ::clone(ChildMain, static_cast<char*>(stack) + kChildStack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  const int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::munmap(stack, kChildStack);
  if (pid < 0) return cannot_start(clone_error);
  if (args.error != 0) {
    ForgetGroup(pid);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return cannot_start(args.error);
  }
  if (auto hook = g_after_spawn_hook.load(); hook != nullptr) hook(pid);
  return pid;
}

}  // namespace tandem::platform
