#include "tandem/base/kill_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace tandem {
namespace {

struct Armed {
  std::string name;  // empty: no kill armed
  long nth = 0;
  std::atomic<long> seen{0};
  int log_fd = -1;  // TANDEM_TEST_KILL_POINT_LOG, or -1
};

Armed& TheArmed() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never destroyed: kill points may run during exit
    if (const char* log = std::getenv("TANDEM_TEST_KILL_POINT_LOG")) {
      a->log_fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    const char* spec = std::getenv("TANDEM_TEST_KILL_POINT");
    if (spec == nullptr) return a;
    std::string_view s(spec);
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return a;
    std::string count(s.substr(colon + 1));
    char* end = nullptr;
    long n = std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || n < 1) return a;
    a->name = std::string(s.substr(0, colon));
    a->nth = n;
    return a;
  }();
  return *armed;
}

}  // namespace

void KillPoint(std::string_view name) {
  Armed& armed = TheArmed();
  if (armed.log_fd >= 0) {
    std::string line = std::string(name) + "\n";
    if (::write(armed.log_fd, line.data(), line.size()) < 0) {
      // A crash test's log; nothing to report to.
    }
  }
  if (armed.name.empty() || name != armed.name) return;
  if (armed.seen.fetch_add(1) + 1 == armed.nth) ::raise(SIGKILL);
}

}  // namespace tandem
