#include "tandem/cli/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <mutex>
#include <thread>

namespace tandem::cli {
namespace {

// Self-pipe: the handler only writes a byte; a watcher thread does the rest.
int g_pipe[2] = {-1, -1};
std::atomic<int> g_count{0};
std::mutex g_mu;
std::function<void()> g_callback;

void Handler(int) {
  int n = g_count.fetch_add(1) + 1;
  if (n >= 2) _exit(130);
  char byte = 1;
  [[maybe_unused]] auto ignored = ::write(g_pipe[1], &byte, 1);
}

}  // namespace

InterruptScope::InterruptScope(std::function<void()> on_interrupt) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_callback = std::move(on_interrupt);
  }
  static std::once_flag once;
  std::call_once(once, [] {
    if (::pipe2(g_pipe, O_CLOEXEC) != 0) return;
    std::thread([] {
      char byte;
      while (::read(g_pipe[0], &byte, 1) == 1) {
        std::lock_guard<std::mutex> lock(g_mu);
        if (g_callback) g_callback();
      }
    }).detach();
    struct sigaction sa {};
    sa.sa_handler = Handler;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  });
}

InterruptScope::~InterruptScope() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_callback = nullptr;
}

bool InterruptScope::Interrupted() { return g_count.load() > 0; }

}  // namespace tandem::cli
